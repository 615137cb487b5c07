"""The events of the index module: requests to rebuild the search read models, and their updates."""

from __future__ import annotations

import uuid
from typing import Literal

from rustok.core.events import DomainEvent


class ReindexRequested(DomainEvent, event_type="index.reindex_requested"):
    """Rebuild the index of ``target_type``: one document (``target_id``), or all of them when None."""

    target_type: Literal["content", "product"]
    target_id: uuid.UUID | None = None


class IndexUpdated(DomainEvent, event_type="index.updated"):
    """The document of ``target_id`` in ``index_name`` was brought up to date."""

    index_name: Literal["content", "products"]
    target_id: uuid.UUID
