"""Nodes and comments: their translations, bodies, statuses, replies and tags, and what the search index
reads of them."""
