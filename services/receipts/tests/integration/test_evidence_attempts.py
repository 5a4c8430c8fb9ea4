"""Security issue 10, item 3: evidence that cannot be made is not retried forever. Each
attempt is recorded before its work, so an attempt that kills the issuer's process counts;
after ``PACTRA_EVIDENCE_MAX_ATTEMPTS`` the evidence stays ``failed`` with a stable reason
(``409 evidence_failed``) until ``pactra-receipts retry-evidence``."""

import subprocess
import threading
from collections.abc import Iterator

import pytest
from documents_stand_in import DocumentsStandIn
from evidence_files import completed, get, new_story, wait_receipt
from sqlalchemy import select

from pactra_contracts.evidence_reasons import REASONS, evidence_reason
from pactra_devtools.stack import BIN, Stack
from pactra_devtools.testing import signup, wait_until
from pactra_platform.db import session_factory
from pactra_platform.messaging import OutboxMessage
from pactra_receipts.adapters.orm import EvidenceJob

MAX_ATTEMPTS = 2


@pytest.fixture(scope="module")
def issuer(issuer_with) -> Iterator[Stack]:
    """The evidence issuer restarted with two attempts and short back-off; restored after."""
    with issuer_with({"PACTRA_EVIDENCE_MAX_ATTEMPTS": str(MAX_ATTEMPTS),
                      "PACTRA_EVIDENCE_RETRY_SECONDS": "0.3"}) as stack:
        yield stack


@pytest.fixture(scope="module")
def account(receipts_stack: Stack) -> dict:
    return signup(receipts_stack.gateway_url, name="Attempts")


def _job(stack: Stack, agreement_id: str) -> EvidenceJob | None:
    with session_factory(stack.settings, "receipts")() as session:
        return session.get(EvidenceJob, agreement_id)


def _failures(stack: Stack, agreement_id: str) -> list[dict]:
    with session_factory(stack.settings, "receipts")() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.type == "receipt.failed")
                               .order_by(OutboxMessage.created_at))
        return [row.body["data"] for row in rows if row.body["data"]["agreement_id"] == agreement_id]


def _cli(stack: Stack, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "pactra-receipts"), *args], env=stack.env, capture_output=True,
                          text=True, timeout=60, check=False)


def test_failing_evidence_stops_after_its_attempts_until_an_operator_retries(
        issuer: Stack, account: dict, documents: DocumentsStandIn) -> None:
    story = new_story(account, documents)
    original = documents.documents.pop(story.document_id)  # the original cannot be fetched
    completed(issuer, story)

    stopped = wait_until(lambda: (j := _job(issuer, story.agreement_id)) is not None
                         and j.next_attempt_at is None and j, timeout=60)
    reason = evidence_reason("document_unavailable")
    assert stopped.status == "failed" and stopped.attempts == MAX_ATTEMPTS and stopped.reason == reason
    reported = _failures(issuer, story.agreement_id)
    assert [(r["reason"], r["attempts"], r["will_retry"]) for r in reported] == [
        (reason, 1, True), (reason, MAX_ATTEMPTS, False)]
    for what in ("receipt", "signed.pdf", "certificate.pdf"):
        response = get(issuer, account, story.agreement_id, what)
        assert response.status_code == 409, response.text
        problem = response.json()
        assert problem["code"] == "evidence_failed" and problem["evidence_reason"] == reason
        assert problem["type"].endswith("/evidence_failed") and "404" not in response.text

    # Nothing more happens by itself: another agreement's evidence is issued meanwhile (the
    # issuer is working), and this one's attempts stay where they stopped.
    other = completed(issuer, new_story(account, documents))
    wait_receipt(issuer, account, other.agreement_id)
    assert _job(issuer, story.agreement_id).attempts == MAX_ATTEMPTS
    listed = _cli(issuer, "failed-evidence")
    assert f"{story.agreement_id}\tstopped\tattempts={MAX_ATTEMPTS}\t{reason}" in listed.stdout

    documents.documents[story.document_id] = original
    unknown = _cli(issuer, "retry-evidence", "agr_none")
    assert unknown.returncode == 1 and "not retried: agr_none" in unknown.stdout
    retried = _cli(issuer, "retry-evidence", story.agreement_id)
    assert retried.returncode == 0 and f"retrying {story.agreement_id}" in retried.stdout
    receipt = wait_receipt(issuer, account, story.agreement_id)
    assert receipt["document"]["sealed_sha256"]
    assert _job(issuer, story.agreement_id) is None


def test_an_attempt_that_kills_the_issuer_counts_and_is_not_retried_at_once(
        issuer: Stack, account: dict, documents: DocumentsStandIn) -> None:
    story = new_story(account, documents)
    held = documents.held[story.document_id] = threading.Event()
    try:
        completed(issuer, story)
        for attempt in range(1, MAX_ATTEMPTS + 1):
            # The issuer is inside the attempt (asking for the original) when it is killed.
            wait_until(lambda n=attempt: documents.calls.count(story.document_id) >= n, timeout=60)
            issuer.stop("receipts-issuer", kill=True)
            job = _job(issuer, story.agreement_id)
            # Recorded and committed before the work: the crash counts, and pushed it back.
            assert job.attempts == attempt and job.attempt_started_at is not None
            assert job.next_attempt_at > job.attempt_started_at
            issuer.start("receipts-issuer")
            issuer.wait_workers()

        # After the last attempt's crash, the next claim reports it and stops retrying it.
        stopped = wait_until(lambda: (j := _job(issuer, story.agreement_id)) is not None
                             and j.next_attempt_at is None and j, timeout=60)
        crashed = evidence_reason("crashed")
        assert stopped.status == "failed" and stopped.reason == crashed
        assert stopped.attempts == MAX_ATTEMPTS and stopped.attempt_started_at is None
        assert documents.calls.count(story.document_id) == MAX_ATTEMPTS
        reported = _failures(issuer, story.agreement_id)
        assert [(r["code"], r["will_retry"]) for r in reported] == [("crashed", True), ("crashed", False)]
        response = get(issuer, account, story.agreement_id, "receipt")
        assert response.status_code == 409 and response.json()["evidence_reason"] == crashed
    finally:
        held.set()
        documents.held.pop(story.document_id, None)

    retried = _cli(issuer, "retry-evidence", "--all-failed")
    assert retried.returncode == 0 and f"retrying {story.agreement_id}" in retried.stdout
    wait_receipt(issuer, account, story.agreement_id)


def test_every_reason_is_a_code_and_a_sentence() -> None:
    for code, sentence in REASONS.items():
        assert code.isidentifier() and code.islower()
        assert sentence[0].isupper() and sentence.endswith(".")
        assert evidence_reason(code) == f"{code}: {sentence}"
