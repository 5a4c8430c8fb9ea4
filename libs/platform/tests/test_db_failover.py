"""A database that restarts or fails over costs no request (issue 13): a pooled connection the
server closed is replaced before it is used; a read whose connection dies under it runs again;
a write answers 503 with Retry-After; a worker's handler runs again instead of returning its
message to the queue. Backends are ended with ``pg_terminate_backend``, as a restart ends
them, without disturbing anyone else's connections."""

import asyncio
import secrets

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

from pactra_contracts.events import Person, WorkspaceCreated, make_event
from pactra_devtools.testing import wait_until
from pactra_platform.bus.consumer import Subscription, run_patiently
from pactra_platform.db import engine_for
from pactra_platform.settings import Settings
from pactra_platform.web import create_service_app

BASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def admin():
    engine = create_engine(BASE_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


def terminate(admin, pid: int) -> None:
    """End a backend as a restart does (the server says so and closes the socket)."""
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    wait_until(lambda: _gone(admin, pid))


def _gone(admin, pid: int) -> bool:
    with admin.connect() as conn:
        return conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :p"),
                            {"p": pid}).scalar() == 0


def own_engine():
    # Its own URL, so its own engine (engine_for caches one per URL) and pool.
    return engine_for(f"{BASE_URL}?application_name=pactra_failover_{secrets.token_hex(4)}")


def test_a_pooled_connection_the_server_closed_is_replaced_before_use(admin) -> None:
    engine = own_engine()
    try:
        with engine.connect() as conn:
            first = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        terminate(admin, first)
        # The same pooled connection would fail its next statement; it is never used.
        with engine.connect() as conn:
            second = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        assert second != first
    finally:
        engine.dispose()


def _app(engine):
    settings = Settings(db_prefix=f"pactra_failover_{secrets.token_hex(4)}_")
    app = create_service_app("failover", settings, readiness={}, verify_signature=False)
    calls = {"n": 0}

    def statement() -> dict:
        calls["n"] += 1
        with engine.connect() as conn:
            if calls["n"] == 1:  # the connection dies under the first attempt's statement
                conn.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
            return {"pid": conn.execute(text("SELECT pg_backend_pid()")).scalar()}

    app.add_url_rule("/read", "read", statement, methods=["GET"])
    app.add_url_rule("/write", "write", statement, methods=["POST"])
    return app.test_client(), calls


def test_a_read_whose_connection_died_runs_again_and_a_write_answers_503() -> None:
    engine = own_engine()
    try:
        client, calls = _app(engine)
        answer = client.get("/read")
        assert answer.status_code == 200 and calls["n"] == 2

        client, calls = _app(engine)
        answer = client.post("/write")
        assert answer.status_code == 503 and calls["n"] == 1
        assert answer.headers["Retry-After"] == "2"
        assert answer.mimetype == "application/problem+json"
        assert answer.get_json()["status"] == 503
    finally:
        engine.dispose()


def test_a_handler_runs_again_while_the_database_is_unavailable() -> None:
    attempts = []

    class NoDeletedWorkspaces:
        """The session the consumer asks whether the event's workspace was deleted: never."""

        def execute(self, *args):
            return self

        def first(self):
            return None

    class Uow:
        session = NoDeletedWorkspaces()

        def __enter__(self):
            return self

        def __exit__(self, *exc_info):
            return None

        def claim(self, event, consumer) -> bool:
            return True

        def commit(self) -> None:
            attempts.append("committed")

    def handle(event, uow) -> None:
        if len(attempts) < 2:
            attempts.append("lost")
            raise sa_exc.OperationalError("SELECT 1", {}, Exception("server closed the connection"))

    event = make_event("workspace.created", WorkspaceCreated(
        workspace_id="ws_1", name="W", plan="free", owner=Person(name="A", email="a@example.com")),
                       producer="gateway", workspace_id="ws_1")
    sub = Subscription("h", ("workspace.created",), handle)
    assert asyncio.run(run_patiently(sub, event, Uow)) is True
    assert attempts == ["lost", "lost", "committed"]

    def broken(event, uow) -> None:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError, match="a bug"):
        asyncio.run(run_patiently(Subscription("b", ("workspace.created",), broken), event, Uow))
