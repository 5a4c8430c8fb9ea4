"""RFC 3161 timestamps on the seal, from a local test TSA: a working TSA gives a timestamped
seal the validators accept; a failing one keeps the evidence "issuing" (no receipt.failed)
for the grace period, then the seal is made without a timestamp and the receipt and the
certificate say so."""

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from documents_stand_in import DocumentsStandIn
from evidence_files import (
    ALL_PASS,
    completed,
    fetch,
    get,
    new_story,
    pdfsig,
    post_verify,
    pyhanko_status,
    run_cli,
)
from pypdf import PdfReader
from sqlalchemy import select

from pactra_devtools.stack import Stack
from pactra_devtools.testing import signup, wait_until
from pactra_devtools.tsa import LocalTsa
from pactra_platform.db import session_factory
from pactra_platform.messaging import OutboxMessage
from pactra_receipts.adapters.orm import EvidenceJob

GRACE_SECONDS = 4


@pytest.fixture(scope="module")
def tsa(issuer_with) -> Iterator[LocalTsa]:
    """The evidence issuer restarted with a TSA and a short grace period; restored after."""
    with LocalTsa() as local, issuer_with({"PACTRA_TSA_URL": local.url, "PACTRA_TSA_TIMEOUT_SECONDS": "3",
                                           "PACTRA_TSA_GRACE_SECONDS": str(GRACE_SECONDS),
                                           "PACTRA_EVIDENCE_RETRY_SECONDS": "0.5"}):
        yield local


@pytest.fixture(scope="module")
def account(receipts_stack: Stack) -> dict:
    return signup(receipts_stack.gateway_url, name="Timestamps")


def test_timestamped_seal_is_accepted(receipts_stack: Stack, account: dict, documents: DocumentsStandIn,
                                      tsa: LocalTsa, tmp_path: Path) -> None:
    tsa.failing = False
    story = completed(receipts_stack, new_story(account, documents))
    evidence = fetch(receipts_stack, account, story.agreement_id)
    stamp = evidence.receipt["timestamp"]
    assert stamp is not None and stamp["tsa"] == tsa.url
    at = datetime.fromisoformat(stamp["time"].replace("Z", "+00:00"))
    assert abs((datetime.now(UTC) - at).total_seconds()) < 120
    assert evidence.signed_pdf is not None

    code, checks, output = run_cli(evidence, tmp_path)
    assert code == 0 and checks == ALL_PASS, output
    assert post_verify(receipts_stack, evidence).json()["checks"] == ALL_PASS
    report = pdfsig(evidence.signed_pdf, tmp_path)
    assert "Signature is Valid." in report and "Total document signed" in report, report
    status = pyhanko_status(evidence.signed_pdf, evidence.chain)
    assert status.intact and status.valid and status.timestamp_validity is not None
    assert status.timestamp_validity.intact and status.timestamp_validity.valid
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(evidence.signed_pdf)).pages[4:])
    assert "RFC 3161 timestamp from" in text


def test_failing_tsa_waits_out_the_grace_period_then_says_so(
        receipts_stack: Stack, account: dict, documents: DocumentsStandIn, tsa: LocalTsa,
        tmp_path: Path) -> None:
    tsa.failing = True
    asked = tsa.requests
    story = completed(receipts_stack, new_story(account, documents))
    sessions = session_factory(receipts_stack.settings, "receipts")

    def job() -> EvidenceJob | None:
        with sessions() as session:
            return session.get(EvidenceJob, story.agreement_id)

    started = wait_until(lambda: (j := job()) is not None and j.tsa_failing_since is not None and j,
                         timeout=30)
    assert started.status == "issuing"
    response = get(receipts_stack, account, story.agreement_id, "receipt")
    assert response.status_code == 409 and "still being issued" in response.json()["detail"]
    assert tsa.requests > asked  # it really tried the TSA (and retries it)

    evidence = fetch(receipts_stack, account, story.agreement_id)
    assert evidence.receipt["timestamp"] is None
    waited = (datetime.now(UTC) - started.tsa_failing_since).total_seconds()
    assert waited >= GRACE_SECONDS
    with sessions() as session:
        failed = [row for row in session.scalars(
            select(OutboxMessage).where(OutboxMessage.type == "receipt.failed"))
            if row.body["data"]["agreement_id"] == story.agreement_id]
    assert failed == []  # a TSA outage within the grace period is not a failure
    assert evidence.signed_pdf is not None
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(evidence.signed_pdf)).pages[4:])
    assert "the time-stamping authority was unavailable" in " ".join(text.split())
    code, checks, output = run_cli(evidence, tmp_path)
    assert code == 0 and checks == ALL_PASS, output
    tsa.failing = False
    assert requests.get(receipts_stack.gateway_url + "/verify", timeout=10).status_code == 200
