"""Tenants: the tenants themselves, the locales each one enables, and resolving the tenant and locale of a
request."""
