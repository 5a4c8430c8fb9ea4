"""``make reset``: asks first, then deletes the local databases, queues, buckets and mail."""

import subprocess
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from pactra_devtools.processes import stop_group
from pactra_devtools.reset import reset
from pactra_devtools.stack import Stack
from pactra_platform.settings import SERVICES


def _databases(stack: Stack) -> set[str]:
    admin = make_url(stack.settings.database_url_of("gateway")).set(database="postgres")
    engine = create_engine(admin, poolclass=NullPool)
    with engine.connect() as conn:
        names = {row[0] for row in conn.execute(text("SELECT datname FROM pg_database"))}
    engine.dispose()
    return {name for name in names if name.startswith(stack.settings.db_prefix)}


def _queues(stack: Stack) -> list[str]:
    out = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", stack.vhost, "--no-table-headers",
                          "name"], check=True, capture_output=True, text=True, timeout=60).stdout
    return [name for name in out.split() if name.startswith(stack.settings.bus_prefix + ".")]


def test_reset_asks_then_deletes_databases_queues_buckets_and_mail(tmp_path: Path) -> None:
    stack = Stack.create()
    try:
        # The test stack's own S3 store is running; reset must find its port closed.
        assert stack.s3 is not None
        stop_group(stack.s3)
        stack.s3 = None
        settings = stack.settings
        for folder in ("s3", "mail"):
            (tmp_path / folder).mkdir()
            (tmp_path / folder / "kept").write_text("x")
        (tmp_path / "secrets.env").write_text("PACTRA_MASTER_KEY=x\n")
        assert len(_databases(stack)) == len(SERVICES) and _queues(stack)

        assert reset(settings, tmp_path, force=False, ask=lambda _: "no") == 1
        assert len(_databases(stack)) == len(SERVICES) and (tmp_path / "s3" / "kept").exists()

        assert reset(settings, tmp_path, force=True) == 0
        assert _databases(stack) == set()
        assert _queues(stack) == []
        assert not (tmp_path / "s3").exists() and not (tmp_path / "mail").exists()
        assert (tmp_path / "secrets.env").exists()
    finally:
        stack.close()
