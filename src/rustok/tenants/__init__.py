"""Tenants: the tenants themselves, the locales each one enables, and resolving the tenant and locale of a
request."""

from rustok.tenants import permissions as permissions  # its resources and grants are in force with it
