"""Media: uploaded files of a tenant, streamed to a storage backend, with per-locale alt text and title
(docs/media.md)."""
