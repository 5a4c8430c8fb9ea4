"""The receipt-signing key: made once however many replicas start together; rotation retires
the old key but keeps it published."""

import threading
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from pactra_devtools.stack import Stack
from pactra_platform.crypto import SecretBox
from pactra_platform.db import drop_database, ensure_database, session_factory
from pactra_platform.migrations import alembic_config
from pactra_receipts.adapters.keys import KEYS_PURPOSE, ensure_active_key, jwks, rotate_key, thumbprint
from pactra_receipts.adapters.orm import SigningKey


@pytest.fixture
def fresh_sessions(receipts_stack: Stack) -> Iterator[sessionmaker]:
    """An empty receipts database of its own: no key yet."""
    settings = receipts_stack.settings.model_copy(
        update={"db_prefix": receipts_stack.settings.db_prefix + "keys_"})
    ensure_database(settings, "receipts")
    command.upgrade(alembic_config(settings, "receipts"), "head")
    try:
        yield session_factory(settings, "receipts")
    finally:
        drop_database(settings, "receipts")


def test_replicas_starting_together_make_one_key(fresh_sessions: sessionmaker,
                                                 receipts_stack: Stack) -> None:
    master = receipts_stack.settings.master_key
    replicas = 8
    start = threading.Barrier(replicas)
    made: list[str] = []
    errors: list[BaseException] = []

    def replica() -> None:
        try:
            start.wait(10)
            made.append(ensure_active_key(fresh_sessions, master))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=replica) for _ in range(replicas)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert len(made) == replicas and len(set(made)) == 1
    with fresh_sessions() as session:
        keys = session.scalars(select(SigningKey)).all()
    assert [key.kid for key in keys] == made[:1]


def test_rotation_retires_but_keeps_publishing(fresh_sessions: sessionmaker,
                                               receipts_stack: Stack) -> None:
    master = receipts_stack.settings.master_key
    first = ensure_active_key(fresh_sessions, master)
    second = rotate_key(fresh_sessions, master)
    assert ensure_active_key(fresh_sessions, master) == second != first
    with fresh_sessions() as session:
        published = jwks(session)["keys"]
        stored = session.get(SigningKey, second)
        assert stored is not None
        sealed = stored.private_sealed
    assert {k["kid"]: k["status"] for k in published} == {first: "retired", second: "active"}
    for key in published:
        assert key["kid"] == thumbprint(key["x"])
        assert {key["kty"], key["crv"], key["alg"], key["use"]} == {"OKP", "Ed25519", "EdDSA", "sig"}
    # Kept sealed under the master key and bound to its key id.
    assert len(SecretBox(master, KEYS_PURPOSE).open(sealed, second.encode())) == 32
    with pytest.raises(Exception):  # noqa: B017, PT011 - AES-GCM's InvalidTag
        SecretBox(master, KEYS_PURPOSE).open(sealed, first.encode())
