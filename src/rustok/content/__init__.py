"""Content: nodes of tenant-defined kinds, their per-locale translations and bodies, the categories and
tags that organise them, and uploaded media."""

from rustok.content import permissions as permissions  # its resources and grants are in force with it
