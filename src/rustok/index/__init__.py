"""Index: the search read models (content and products) that are built, and kept current, from the other
modules' events rather than from their tables."""

from rustok.index import permissions as permissions  # its resources and grants are in force with it
