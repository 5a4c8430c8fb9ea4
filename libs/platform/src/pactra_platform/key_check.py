"""A check value of the master key, kept in each service's database.

The master key wraps every data key and signing key a service stores. A second checkout (or a
lost ``.pactra/secrets.env``) brings a new master key to the old databases, and then nothing
stored can be decrypted: receipts stall with ``InvalidTag`` while every ``/readyz`` is green.
So each database records, when it is made, an HMAC of a fixed label under the master key; the
migrations and every process compare it with the key they hold and refuse to start, with one
sentence saying what happened and the two ways out, when it differs. The value tells nothing
of the key itself (HMAC-SHA256 is a PRF).
"""

import hashlib
import hmac
import logging

from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from .settings import Settings

log = logging.getLogger(__name__)

READ = text("SELECT check_value FROM pactra_key_check WHERE id = 1")
LABEL = b"pactra master key check v1"


class MasterKeyMismatch(RuntimeError):
    """The database was made with another master key than this process holds."""


def check_value(master_key: str) -> str:
    return hmac.new(master_key.encode(), LABEL, hashlib.sha256).hexdigest()


def mismatch_message(settings: Settings, service: str) -> str:
    return (
        f"The database {settings.database_name(service)} was created with a different master "
        "key than PACTRA_MASTER_KEY (another checkout, or a new .pactra/secrets.env), so nothing "
        "it stores can be decrypted: restore the .pactra/secrets.env that created it, or run "
        "`make reset` to delete the local data and start afresh."
    )


def record(engine: Engine, settings: Settings, service: str) -> None:
    """At migration: record the key's check value in a new database, or compare it."""
    expected = check_value(settings.master_key)
    with engine.begin() as connection:
        connection.execute(text(
            "CREATE TABLE IF NOT EXISTS pactra_key_check (id integer PRIMARY KEY CHECK (id = 1), "
            "check_value text NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now())"))
        # Several replicas may migrate at once: the first insert wins, the rest compare.
        connection.execute(text(
            "INSERT INTO pactra_key_check (id, check_value) VALUES (1, :value) ON CONFLICT (id) DO NOTHING"),
            {"value": expected})
        stored = connection.execute(READ).scalar_one()
    if not hmac.compare_digest(stored, expected):
        raise MasterKeyMismatch(mismatch_message(settings, service))


def verify(engine: Engine, settings: Settings, service: str) -> None:
    """At a process's start: refuse a database made under another master key. A database
    without the record (not migrated by this version yet) is left to the migrations."""
    try:
        with engine.connect() as connection:
            stored = connection.execute(READ).scalar()
    except ProgrammingError:
        return
    if stored is not None and not hmac.compare_digest(stored, check_value(settings.master_key)):
        raise MasterKeyMismatch(mismatch_message(settings, service))


def refuse_to_start_on_mismatch(settings: Settings, service: str) -> None:
    """Stop this process, saying why, when its database was made under another master key.
    Exit code 3 is gunicorn's "worker failed to boot": its arbiter then stops instead of
    starting the worker again and again."""
    from .db import engine_for

    try:
        verify(engine_for(settings.database_url_of(service)), settings, service)
    except MasterKeyMismatch as exc:
        log.critical("%s", exc)
        raise SystemExit(3) from None
    except OperationalError:
        # The database is unreachable: /readyz says so, and the check runs at the next start.
        pass
