"""The life-cycle target with sealing on: completed agreements arriving at 10 per second get
their sealed evidence with a p95 latency under one second (from the completion event being
published to the receipt being issued)."""

import statistics
import time
from datetime import datetime

import pytest
from agreement_events import publish
from documents_stand_in import DocumentsStandIn
from evidence_files import new_story
from sqlalchemy import select

from pactra_devtools.stack import Stack
from pactra_devtools.testing import signup, wait_until
from pactra_platform.db import session_factory
from pactra_receipts.models import Receipt, TrackedAgreement

AGREEMENTS, RATE = 30, 10.0


@pytest.fixture(scope="module")
def account(receipts_stack: Stack) -> dict:
    return signup(receipts_stack.gateway_url, name="Throughput")


def test_ten_completed_agreements_a_second_get_receipts_within_a_second(
        receipts_stack: Stack, account: dict, documents: DocumentsStandIn) -> None:
    stories = []
    for _ in range(AGREEMENTS):
        story = new_story(account, documents)
        story.create_and_send()
        story.sign(0)
        story.sign(1)
        story.complete()
        stories.append(story)
        publish(receipts_stack.settings, story.events[:-1])  # everything but the completion
    # Wait until the trails hold everything before the completion, so only the ending is timed.
    sessions = session_factory(receipts_stack.settings, "receipts")

    ids = [s.agreement_id for s in stories]
    wanted = len(stories[0].events) - 1

    def recorded() -> bool:
        with sessions() as session:
            rows = session.scalars(select(TrackedAgreement).where(TrackedAgreement.id.in_(ids))).all()
            return len(rows) == len(ids) and all(r.entries == wanted for r in rows)

    wait_until(recorded, timeout=60)
    published: dict[str, float] = {}
    start = time.time()
    for index, story in enumerate(stories):
        delay = start + index / RATE - time.time()
        if delay > 0:
            time.sleep(delay)  # pacing the load at RATE per second, not waiting for a result
        published[story.agreement_id] = time.time()
        publish(receipts_stack.settings, story.events[-1:])

    def issued() -> list[Receipt]:
        with sessions() as session:
            rows = session.scalars(select(Receipt).where(Receipt.agreement_id.in_(ids))).all()
            return rows if len(rows) == len(ids) else []

    receipts = wait_until(issued, timeout=60)
    latencies = sorted(
        datetime.fromisoformat(r.body["issued_at"].replace("Z", "+00:00")).timestamp()
        - published[r.agreement_id] for r in receipts)
    p95 = latencies[round(0.95 * len(latencies)) - 1]
    print(f"receipt latency at {RATE:.0f}/s with sealing: p50 {statistics.median(latencies) * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms")
    assert all(r.body["document"]["sealed_sha256"] for r in receipts)
    assert p95 < 1.0, latencies
