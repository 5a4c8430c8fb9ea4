"""Outbox retention (security issue 11): published rows are deleted once older than
``PACTRA_OUTBOX_RETENTION_DAYS``, so the events they hold (signature images, field values)
are not kept beyond it; unpublished rows are never dropped. Real PostgreSQL, real workers."""

import json

from pactra_devtools.stack import Stack
from pactra_devtools.testing import wait_until
from pactra_platform.bus import purge_outbox
from pactra_platform.settings import Settings

INSERT = ("INSERT INTO outbox (id, type, body, created_at, published_at, attempts) VALUES "
          "(:id, 'signer.signed', CAST(:body AS jsonb), now() - make_interval(days => :age), "
          "CASE WHEN :published THEN now() - make_interval(days => :age) END, 0)")
SIGNED = json.dumps({"data": {"signature": {"type": "drawn", "png_base64": "iVBORw0KGgo="}}})


def _insert(engine, rows: list[tuple[str, int, bool]]) -> None:
    from sqlalchemy import text

    with engine.begin() as conn:
        for row_id, age, published in rows:
            conn.execute(text(INSERT), {"id": row_id, "body": SIGNED, "age": age, "published": published})


def test_published_rows_past_the_window_are_deleted_and_unpublished_kept(scratch) -> None:
    _insert(scratch.db.engine, [("evt_old_sent", 8, True), ("evt_new_sent", 6, True),
                                ("evt_old_unsent", 30, False), ("evt_new_unsent", 0, False)]
            + [(f"evt_bulk_{n}", 10, True) for n in range(1500)])  # more than one batch
    settings = Settings(db_prefix=scratch.settings.db_prefix, outbox_retention_days=7)

    assert purge_outbox(scratch.sessions, settings, scratch.service) == 1501
    assert {row_id for (row_id,) in scratch.db.rows("SELECT id FROM outbox")} == {
        "evt_new_sent", "evt_old_unsent", "evt_new_unsent"}
    assert purge_outbox(scratch.sessions, settings, scratch.service) == 0
    # A shorter window takes the newer published row too; unpublished rows stay, however old.
    shorter = Settings(db_prefix=scratch.settings.db_prefix, outbox_retention_days=1)
    assert purge_outbox(scratch.sessions, shorter, scratch.service) == 1
    assert {row_id for (row_id,) in scratch.db.rows("SELECT id FROM outbox")} == {
        "evt_old_unsent", "evt_new_unsent"}


def test_a_worker_purges_its_outbox_when_it_starts(stack: Stack, db_of) -> None:
    signing = db_of("signing")
    _insert(signing.engine, [("evt_week_old", 8, True), ("evt_fresh", 1, True)])
    stack.start("signing-worker")
    wait_until(lambda: signing.scalar("SELECT count(*) FROM outbox WHERE id = 'evt_week_old'") == 0,
               timeout=60)
    assert signing.scalar("SELECT count(*) FROM outbox WHERE id = 'evt_fresh'") == 1
