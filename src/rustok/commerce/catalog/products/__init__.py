"""Products: their translations, options and status, and what the search index reads of them."""
