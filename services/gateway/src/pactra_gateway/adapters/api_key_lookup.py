"""Every request's API key look-up: the key's row and its workspace's plan, one indexed
statement on the driver (adapters/one_statement.py), read as plain rows (building an ORM query
and loading an ApiKey object for it cost more of the gateway's CPU than the query itself)."""

from datetime import datetime
from typing import NamedTuple

from sqlalchemy import Engine, text
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from pactra_gateway.adapters.one_statement import one_row

# The key's columns, in this order wherever a statement reads a key (usage_counters'
# KEY_AND_SEND_RESERVED too).
KEY_COLUMNS = ("id", "key_hash", "workspace_id", "prefix", "revoked_at", "last_used_at", "plan")
KEY_BY_HASH_SQL = str(text(
    "SELECT k.id, k.key_hash, k.workspace_id, k.prefix, k.revoked_at, k.last_used_at, w.plan "
    "FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id WHERE k.key_hash = :digest"
).compile(dialect=PGDialect_psycopg()))


class KeyRow(NamedTuple):
    """An API key's row as accounts.authenticate reads it (KEY_COLUMNS)."""

    id: str
    key_hash: str
    workspace_id: str
    prefix: str
    revoked_at: datetime | None
    last_used_at: datetime | None
    plan: str


def key_by_hash(engine: Engine, digest: str) -> KeyRow | None:
    row = one_row(engine, KEY_BY_HASH_SQL, {"digest": digest})
    return None if row is None else KeyRow(*row)
