"""Index (PostgreSQL): phrase keys, so a phrase search reads only the documents holding its word pairs.

A GIN index on ``search_vector`` knows which documents hold a word, not where: for a phrase, PostgreSQL
reads the vector of every document holding all its words to check their positions. Phrases of common
words hold thousands of such documents and few matches. So each document now also keeps the keys of its
adjacent word pairs (``phrase_keys``: a 32-bit hash of each pair of lexemes at positions p and p + 1 of its
``search_vector``), in a GIN index of its own; a phrase search asks that index for the documents holding
every pair of the phrase, and checks the positions on those only (`rustok.index.search`).

``rustok_phrase_keys(vector, for_query)`` makes them, for a document (every pair) and for a query (only
pairs of positions holding one lexeme each: a dictionary that gives a query word several lexemes lets a
document match by any one of them, so no pair of them is required). The keys come from the vector the
search checks, so a document that matches a phrase holds its keys (a hash collision only lets a
document through to that check). ``hashtext`` is the hash PostgreSQL's hash indexes store, so it stays the
same across upgrades.

SQLite needs none of this: FTS5 keeps positions in its index.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-22 06:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, FTS columns with their PostgreSQL weights), as revision 0007 made them.
DOCUMENTS = {
    "index_content": (("title", "A"), ("tags_text", "B"), ("excerpt", "B"), ("body_text", "C")),
    "index_products": (("title", "A"), ("subtitle", "B"), ("handle", "B"), ("description", "C")),
}

PHRASE_KEYS = """
CREATE FUNCTION rustok_phrase_keys(vector tsvector, for_query boolean DEFAULT false) RETURNS int[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    WITH at AS (SELECT lexeme, unnest(positions) AS pos FROM unnest(vector)),
         single AS (SELECT pos FROM at GROUP BY pos HAVING count(*) = 1)
    SELECT coalesce(array_agg(DISTINCT hashtext(a.lexeme || ' ' || b.lexeme)), '{}')
    FROM at AS a JOIN at AS b ON b.pos = a.pos + 1
    WHERE NOT for_query OR (a.pos IN (SELECT pos FROM single) AND b.pos IN (SELECT pos FROM single))
$$
"""


def _trigger_function(table: str, columns: Sequence[tuple[str, str]], phrase_keys: bool) -> str:
    vector = " || ".join(
        f"setweight(to_tsvector(config, coalesce(NEW.{name}, '')), '{weight}')" for name, weight in columns
    )
    keys = "NEW.phrase_keys := rustok_phrase_keys(NEW.search_vector); " if phrase_keys else ""
    return (
        f"CREATE OR REPLACE FUNCTION {table}_search_vector() RETURNS trigger LANGUAGE plpgsql AS $$ "
        f"DECLARE config regconfig := rustok_ts_config(NEW.locale); "
        f"BEGIN NEW.search_vector := {vector}; {keys}RETURN NEW; END $$"
    )


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(PHRASE_KEYS)
    for table, columns in DOCUMENTS.items():
        op.execute(f"ALTER TABLE {table} ADD COLUMN phrase_keys int[] NOT NULL DEFAULT '{{}}'")
        op.execute(_trigger_function(table, columns, phrase_keys=True))
        op.execute(f"UPDATE {table} SET phrase_keys = DEFAULT")  # the trigger makes the keys
        op.execute(f"CREATE INDEX ix_{table}_phrase_search ON {table} USING gin (phrase_keys)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in DOCUMENTS.items():
        op.execute(f"DROP INDEX ix_{table}_phrase_search")
        op.execute(_trigger_function(table, columns, phrase_keys=False))
        op.execute(f"ALTER TABLE {table} DROP COLUMN phrase_keys")
    op.execute("DROP FUNCTION rustok_phrase_keys(tsvector, boolean)")
