"""Index: the search read models (content and products) that are built, and kept current, from the other
modules' events rather than from their tables."""
