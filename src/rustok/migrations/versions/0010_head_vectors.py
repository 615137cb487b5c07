"""Index (PostgreSQL): head vectors, so the rank window of a common word is taken from its headings first.

A GIN bitmap holds every match of a word before the first row is read: for a word in a fifth of the
documents that is tens of thousands of entries to collect and sort, though the search ranks only its
window (`rustok.index.search`). So each document also keeps ``head_vector``: the part of its
``search_vector`` made from its title, tags and excerpt (products: title, subtitle and handle), the text
before the body, with a GIN index of its own. The window is filled from the head index first, and from the
whole vectors' index only when the heads match fewer documents than the window. ``search_vector`` is the
head vector followed by the body's, so it is made once, and both vectors are kept in the row (storage
MAIN, compressed but not moved to TOAST): ranking reads each candidate's vector, and a TOASTed one costs
several more page reads.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-22 07:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, FTS columns with their PostgreSQL weights), as revision 0007 made them; the head is the A and B
# columns, the body the C one.
DOCUMENTS = {
    "index_content": (("title", "A"), ("tags_text", "B"), ("excerpt", "B"), ("body_text", "C")),
    "index_products": (("title", "A"), ("subtitle", "B"), ("handle", "B"), ("description", "C")),
}


def _vector(columns: Sequence[tuple[str, str]]) -> str:
    return " || ".join(
        f"setweight(to_tsvector(config, coalesce(NEW.{name}, '')), '{weight}')" for name, weight in columns
    )


def _trigger_function(table: str, columns: Sequence[tuple[str, str]], head: bool) -> str:
    if head:
        heading = [column for column in columns if column[1] != "C"]
        body = [column for column in columns if column[1] == "C"]
        vectors = (
            f"NEW.head_vector := {_vector(heading)}; "
            f"NEW.search_vector := NEW.head_vector || {_vector(body)}; "
        )
    else:
        vectors = f"NEW.search_vector := {_vector(columns)}; "
    return (
        f"CREATE OR REPLACE FUNCTION {table}_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"DECLARE config regconfig := rustok_ts_config(NEW.locale); "
        f"BEGIN {vectors}NEW.phrase_keys := rustok_phrase_keys(NEW.search_vector); RETURN NEW; END $$"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in DOCUMENTS.items():
        op.execute(f"ALTER TABLE {table} ADD COLUMN head_vector tsvector")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN head_vector SET STORAGE MAIN")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN search_vector SET STORAGE MAIN")
        op.execute(_trigger_function(table, columns, head=True))
        op.execute(f"UPDATE {table} SET head_vector = NULL")  # the trigger makes both vectors again
        op.execute(f"CREATE INDEX ix_{table}_head_search ON {table} USING gin (head_vector)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in DOCUMENTS.items():
        op.execute(f"DROP INDEX ix_{table}_head_search")
        op.execute(_trigger_function(table, columns, head=False))
        op.execute(f"ALTER TABLE {table} ALTER COLUMN search_vector SET STORAGE EXTENDED")
        op.execute(f"ALTER TABLE {table} DROP COLUMN head_vector")
