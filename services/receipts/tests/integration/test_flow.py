"""End to end through the bus and the gateway: events arrive shuffled and duplicated, the
trail stays one chain, the receipt verifies with the independent verifier."""

import hashlib
import io
import random
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
import rfc8785
from agreement_events import SAMPLE, AgreementStory, publish
from documents_stand_in import DocumentsStandIn
from evidence_files import new_story
from pypdf import PdfReader
from sqlalchemy import select

from pactra_contracts.ids import new_id
from pactra_devtools.stack import BIN, Stack
from pactra_devtools.testing import auth, signup, wait_until
from pactra_platform.db import session_factory
from pactra_platform.messaging import OutboxMessage
from tests.verifier import verify

ALL_PASS = {"signature": "pass", "audit_chain": "pass", "document_hash": "pass", "sealed_hash": "pass"}


@pytest.fixture(scope="module")
def account(receipts_stack: Stack) -> dict:
    return signup(receipts_stack.gateway_url)


def _shuffled_with_duplicates(story: AgreementStory, seed: int) -> list:
    rng = random.Random(seed)  # noqa: S311 - a reproducible shuffle, not a secret
    events = list(story.events) + rng.sample(story.events, k=len(story.events) // 2)
    rng.shuffle(events)
    return events


def _get(stack: Stack, account: dict, story: AgreementStory, what: str) -> requests.Response:
    return requests.get(f"{stack.gateway_url}/v1/agreements/{story.agreement_id}/{what}",
                        headers=auth(account), timeout=30)


def _receipt(stack: Stack, account: dict, story: AgreementStory) -> dict:
    response = wait_until(lambda: (r := _get(stack, account, story, "receipt")).status_code == 200 and r,
                          timeout=60)
    return response.json()


def _jwks(stack: Stack) -> dict:
    response = requests.get(stack.gateway_url + "/v1/receipts/keys", timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def _signed_by_both(account: dict, documents: DocumentsStandIn) -> AgreementStory:
    """A story of two signatures and the completion (none of it published yet)."""
    story = new_story(account, documents)
    story.create_and_send()
    story.sign(0)
    story.sign(1)
    story.complete()
    return story


def test_completed_agreement_gets_a_verifiable_receipt_and_signed_pdf(
        receipts_stack: Stack, account: dict, documents: DocumentsStandIn) -> None:
    story = new_story(account, documents)
    story.create_and_send()
    story.view(1)
    story.view(0)
    story.sign(0)
    story.sign(1)
    story.complete()
    publish(receipts_stack.settings, _shuffled_with_duplicates(story, seed=7))

    receipt = _receipt(receipts_stack, account, story)
    audit = _get(receipts_stack, account, story, "audit").json()
    signed_pdf = _get(receipts_stack, account, story, "signed.pdf")
    assert signed_pdf.status_code == 200 and signed_pdf.headers["Content-Type"] == "application/pdf"
    jwks = _jwks(receipts_stack)
    assert verify(receipt, jwks, audit, SAMPLE.read_bytes(), signed_pdf.content) == ALL_PASS

    # Every event once (duplicates dropped), then receipt.issued; the receipt covers the events.
    types = [entry["type"] for entry in audit["entries"]]
    assert len(types) == len(story.events) + 1 and types[-1] == "receipt.issued"
    assert sorted(types[:-1]) == sorted(e.type for e in story.events)
    assert receipt["audit"]["entries"] == len(story.events)
    assert receipt["outcome"] == "completed" and receipt["receipt_id"].startswith("rcpt_")
    assert receipt["timestamp"] is None and receipt["workspace_id"] == story.workspace_id
    by_id = {s["signer_id"]: s for s in receipt["signers"]}
    for index, signer in enumerate(story.signers):
        facts = by_id[signer.id]
        assert facts["status"] == "signed" and facts["ip"] == f"203.0.113.{10 + index}"
        assert facts["user_agent"] == story.signer_actor(index).user_agent
        assert facts["consent_at"] and facts["signed_at"]
    # No link or token in the trail; invitations say to whom.
    assert "c2VhbGVkLWxpbmstbm90LWluLWNsZWFy" not in audit.__repr__()
    invites = [e["data"] for e in audit["entries"] if e["type"] == "signer.invited"]
    assert sorted(i["email"] for i in invites) == ["alan@example.com", "grace@example.com"]

    reader = PdfReader(io.BytesIO(signed_pdf.content))
    assert len(reader.pages) > 4
    assert "Grace Hopper" in reader.pages[0].extract_text()
    assert "Turing Machines Ltd" in reader.pages[3].extract_text()
    certificate_text = " ".join(page.extract_text() for page in reader.pages[4:])
    for fact in (receipt["audit"]["head"], receipt["document"]["sha256"], story.agreement_id,
                 receipt["receipt_id"], "203.0.113.10", "203.0.113.11", receipt["signature"]["kid"],
                 receipts_stack.settings.public_url + "/verify"):
        assert fact in certificate_text, fact
    certificate = _get(receipts_stack, account, story, "certificate.pdf")
    assert certificate.status_code == 200
    assert "Certificate of Completion" in PdfReader(io.BytesIO(certificate.content)).pages[0].extract_text()

    # Replaying everything changes nothing.
    publish(receipts_stack.settings, story.events)
    assert _get(receipts_stack, account, story, "receipt").json() == receipt


def test_declined_agreement_gets_a_receipt_without_pdfs(
        receipts_stack: Stack, account: dict, documents: DocumentsStandIn) -> None:
    story = new_story(account, documents)
    story.create_and_send()
    story.view(0)
    story.sign(0)
    story.view(1)
    story.decline(1, "The rent is too high")
    publish(receipts_stack.settings, _shuffled_with_duplicates(story, seed=11))

    receipt = _receipt(receipts_stack, account, story)
    audit = _get(receipts_stack, account, story, "audit").json()
    assert verify(receipt, _jwks(receipts_stack), audit, SAMPLE.read_bytes()) == {
        **ALL_PASS, "sealed_hash": "skipped"}
    assert receipt["outcome"] == "declined" and receipt["document"]["sealed_sha256"] is None
    statuses = {s["signer_id"]: s["status"] for s in receipt["signers"]}
    assert statuses == {story.signers[0].id: "signed", story.signers[1].id: "declined"}
    declined = next(e for e in audit["entries"] if e["type"] == "signer.declined")
    assert declined["data"]["reason"] == "The rent is too high"
    assert declined["actor"]["ip"] == "203.0.113.11"
    for what in ("signed.pdf", "certificate.pdf"):
        assert _get(receipts_stack, account, story, what).status_code == 404


def test_no_receipt_before_the_end_and_conflict_while_signatures_are_missing(
        receipts_stack: Stack, account: dict, documents: DocumentsStandIn) -> None:
    story = _signed_by_both(account, documents)
    created_and_first = [e for e in story.events if e.type != "signer.signed"] + story.events[-3:-2]
    last_signature = story.events[-2]
    publish(receipts_stack.settings, [e for e in created_and_first if e.type != "agreement.completed"])
    def entries() -> int:  # 404 until the first event was handled
        return len(_get(receipts_stack, account, story, "audit").json().get("entries", []))

    wait_until(lambda: entries() == 5)
    assert _get(receipts_stack, account, story, "receipt").status_code == 404
    publish(receipts_stack.settings, [story.events[-1]])  # completion, one signature missing
    wait_until(lambda: entries() == 6)
    assert _get(receipts_stack, account, story, "receipt").status_code == 409
    assert _get(receipts_stack, account, story, "signed.pdf").status_code == 409
    publish(receipts_stack.settings, [last_signature])
    assert _receipt(receipts_stack, account, story)["audit"]["entries"] == 7


def test_the_receipt_waits_for_a_late_sending_and_invitation(
        receipts_stack: Stack, account: dict, documents: DocumentsStandIn) -> None:
    # Every signature and the completion are in, and a reminder, but not yet how the agreement
    # was sent nor the first invitation: a receipt issued now would leave those outside what
    # it covers. (A reminder carries the invitation's payload; it must not stand in for it.)
    story = _signed_by_both(account, documents)
    invitation = next(e for e in story.events if e.type == "signer.invited")
    late = [e for e in story.events if e.type == "agreement.sent"] + [invitation]
    reminder = invitation.model_copy(update={"id": new_id("evt"), "type": "signer.reminded"})
    publish(receipts_stack.settings, [e for e in story.events if e not in late] + [reminder])

    def entries() -> int:
        return len(_get(receipts_stack, account, story, "audit").json().get("entries", []))

    wait_until(lambda: entries() == len(story.events) - 1)
    assert _get(receipts_stack, account, story, "receipt").status_code == 409
    publish(receipts_stack.settings, late[:1])
    wait_until(lambda: entries() == len(story.events))
    assert _get(receipts_stack, account, story, "receipt").status_code == 409
    publish(receipts_stack.settings, late[1:])

    receipt = _receipt(receipts_stack, account, story)
    types = [e["type"] for e in _get(receipts_stack, account, story, "audit").json()["entries"]]
    assert receipt["audit"]["entries"] == len(story.events) + 1 and types[-1] == "receipt.issued"
    assert types[-3:-1] == ["agreement.sent", "signer.invited"]


def test_a_request_that_prefers_to_wait_gets_the_receipt_once_it_is_issued(
        receipts_stack: Stack, account: dict, documents: DocumentsStandIn) -> None:
    story = _signed_by_both(account, documents)
    publish(receipts_stack.settings, story.events[:-1])
    wait_until(lambda: len(_get(receipts_stack, account, story, "audit").json().get("entries", [])) == 6)

    def waiting(seconds: int, agreement_id: str = story.agreement_id) -> tuple[requests.Response, float]:
        started = time.monotonic()
        response = requests.get(f"{receipts_stack.gateway_url}/v1/agreements/{agreement_id}/receipt",
                                headers={**auth(account), "Prefer": f"respond-async, wait={seconds}"},
                                timeout=60)
        return response, time.monotonic() - started

    # Not ended: the request waits out its time, then answers as it would have at once.
    response, took = waiting(1)
    assert response.status_code == 404 and took >= 1
    assert response.headers["Preference-Applied"] == "wait=1"
    # Nothing to wait for: an agreement that does not exist is answered at once.
    response, took = waiting(20, "agr_" + "0" * 24)
    assert response.status_code == 404 and took < 10

    with ThreadPoolExecutor(1) as pool:
        asked = pool.submit(waiting, 20)
        time.sleep(1.0)
        assert not asked.done()
        publish(receipts_stack.settings, [story.events[-1]])  # the agreement ends
        response, took = asked.result(timeout=60)
    assert response.status_code == 200, response.text
    assert response.json()["audit"]["entries"] == 7 and 1.0 <= took < 20
    assert response.headers["Preference-Applied"] == "wait=20"


def test_another_workspace_sees_nothing(receipts_stack: Stack, account: dict,
                                        documents: DocumentsStandIn) -> None:
    story = new_story(account, documents)
    story.create_and_send()
    story.end("agreement.voided", "Sent by mistake")
    publish(receipts_stack.settings, story.events)
    _receipt(receipts_stack, account, story)
    stranger = signup(receipts_stack.gateway_url, name="Mallory")
    for what in ("audit", "receipt", "signed.pdf", "certificate.pdf"):
        assert _get(receipts_stack, stranger, story, what).status_code == 404
    unknown = requests.get(f"{receipts_stack.gateway_url}/v1/agreements/agr_unknown/audit",
                           headers=auth(account), timeout=10)
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


def test_rotation_keeps_old_receipts_verifiable(receipts_stack: Stack, account: dict,
                                                documents: DocumentsStandIn) -> None:
    before = new_story(account, documents)
    before.create_and_send()
    before.end("agreement.expired", None)
    publish(receipts_stack.settings, before.events)
    old_receipt = _receipt(receipts_stack, account, before)

    result = subprocess.run([str(BIN / "pactra-receipts"), "rotate-key"], env=receipts_stack.env,
                            capture_output=True, text=True, timeout=60, check=True)
    new_kid = result.stdout.strip().rsplit(" ", 1)[-1]
    jwks = _jwks(receipts_stack)
    statuses = {key["kid"]: key["status"] for key in jwks["keys"]}
    assert statuses[new_kid] == "active" and statuses[old_receipt["signature"]["kid"]] == "retired"
    assert list(statuses.values()).count("active") == 1

    after = new_story(account, documents)
    after.create_and_send()
    after.end("agreement.voided", "Changed terms")
    publish(receipts_stack.settings, after.events)
    new_receipt = _receipt(receipts_stack, account, after)
    assert new_receipt["signature"]["kid"] == new_kid
    for story, receipt in ((before, old_receipt), (after, new_receipt)):
        audit = _get(receipts_stack, account, story, "audit").json()
        assert verify(receipt, jwks, audit)["signature"] == "pass"
        assert verify(receipt, jwks, audit)["audit_chain"] == "pass"


def test_evidence_that_cannot_be_made_is_reported_and_retried(
        receipts_stack: Stack, account: dict, documents: DocumentsStandIn) -> None:
    story = new_story(account, documents)
    documents.documents.pop(story.document_id)  # the documents service cannot give the original
    story.create_and_send()
    story.sign(0)
    story.sign(1)
    story.complete()
    publish(receipts_stack.settings, story.events)

    sessions = session_factory(receipts_stack.settings, "receipts")

    def failures() -> list[dict]:
        with sessions() as session:
            rows = session.scalars(select(OutboxMessage).where(OutboxMessage.type == "receipt.failed"))
            return [row.body for row in rows if row.body["data"]["agreement_id"] == story.agreement_id]

    reported = wait_until(lambda: len(failures()) >= 2 and failures(), timeout=30)  # retried
    # What users see is a stable code and sentence, not the exception ("documents answered 404").
    reason = "document_unavailable: The original document could not be fetched from the documents service."
    assert reported[0]["data"]["reason"] == reason and reported[0]["data"]["code"] == "document_unavailable"
    assert reported[0]["data"]["will_retry"] is True and reported[0]["data"]["attempts"] == 1
    assert reported[0]["workspace_id"] == story.workspace_id
    for what in ("receipt", "signed.pdf", "certificate.pdf"):
        response = _get(receipts_stack, account, story, what)
        assert response.status_code == 409, response.text
        assert response.json()["code"] == "evidence_failed" and response.json()["evidence_reason"] == reason


def test_receipt_issued_event_names_every_recipient(
        receipts_stack: Stack, account: dict, documents: DocumentsStandIn) -> None:
    story = new_story(account, documents)
    story.create_and_send()
    story.end("agreement.voided", "Wrong document")
    publish(receipts_stack.settings, story.events)
    receipt = _receipt(receipts_stack, account, story)
    sessions = session_factory(receipts_stack.settings, "receipts")
    with sessions() as session:
        issued = [row.body for row in session.scalars(
            select(OutboxMessage).where(OutboxMessage.type == "receipt.issued"))
            if row.body["data"]["agreement_id"] == story.agreement_id]
    assert len(issued) == 1
    data = issued[0]["data"]
    assert data["receipt_id"] == receipt["receipt_id"] and data["outcome"] == "voided"
    assert data["receipt_sha256"] == hashlib.sha256(rfc8785.dumps(receipt)).hexdigest()
    assert data["sealed_sha256"] is None
    assert sorted((r["email"], r["signer_id"]) for r in data["recipients"]) == sorted(
        [(s.email, s.id) for s in story.signers] + [("ada@example.com", None)])
