"""Counting the SQL statements a piece of work runs, to hold a read path to a constant number of them
(no N+1)::

    async with count_statements(db_engine) as statements:
        await client.get("/api/commerce/products?limit=20", headers=headers)
    assert statements.count == ...

It listens to the engine's ``before_cursor_execute``, so it sees every statement sent to the database on
any of the engine's connections (the test's own connection included: the app fixture shares it), and only
while the block runs. ``statements.sql`` keeps their text, for a failing assertion to show.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine


@dataclass
class Statements:
    """The statements run while a `count_statements` block was open."""

    sql: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.sql)

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        self.sql.append(statement)


@asynccontextmanager
async def count_statements(target: AsyncEngine | AsyncConnection) -> AsyncIterator[Statements]:
    """Count the statements ``target`` (an engine, or one connection) runs inside the block."""
    sync_target = target.sync_engine if isinstance(target, AsyncEngine) else target.sync_connection
    assert sync_target is not None, "the connection is not open"
    statements = Statements()
    event.listen(sync_target, "before_cursor_execute", statements)
    try:
        yield statements
    finally:
        event.remove(sync_target, "before_cursor_execute", statements)
