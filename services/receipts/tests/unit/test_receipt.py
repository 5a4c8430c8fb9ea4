"""The receipt's assembly and signature, and the verify use case over it: what Pactra holds of
a presented receipt, and a sealed PDF that is not the one the receipt names left unread."""

from dataclasses import replace

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fakes import FakeAgreement, FakeSigner

from pactra_platform.crypto import b64url
from pactra_receipts.adapters.keys import thumbprint
from pactra_receipts.domain import receipt as receipts
from pactra_receipts.domain.canonical import jcs_sha256
from pactra_receipts.domain.errors import (
    EvidenceFailed,
    EvidenceStillIssuing,
    NoReceiptYet,
    NoSignedDocuments,
    NotVerifiable,
)
from pactra_receipts.domain.receipt import EvidenceState
from pactra_receipts.service_layer.verification import (
    NOT_READ,
    TOMBSTONE_NOTE,
    Presented,
    Published,
    verify_presented,
)

KEY = Ed25519PrivateKey.generate()
X = b64url(KEY.public_key().public_bytes_raw())
KID = thumbprint(X)
JWKS = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": X, "kid": KID, "alg": "EdDSA", "use": "sig",
                  "status": "active"}]}
SIGNERS = [{"id": "sgr_1", "name": "Grace", "email": "grace@example.com"},
           {"id": "sgr_2", "name": "Alan", "email": "alan@example.com"}]


def voided_receipt() -> dict:
    agreement = FakeAgreement("agr_1", "ws_1", created={
        "title": "Lease", "document_sha256": "ab" * 32, "document_pages": 2, "signers": SIGNERS},
        outcome="voided", entries=5, head="cd" * 32)
    unsigned = receipts.unsigned_receipt(
        agreement, receipt_id="rcpt_1", issued_at="2026-12-07T06:00:00.000Z", entries=5,
        head="cd" * 32, signers={"sgr_1": FakeSigner("sgr_1", status="viewed")},
        sealed_sha256=None, timestamp=None)
    return receipts.sign(unsigned, KID, lambda message: b64url(KEY.sign(message)))


def never_called(receipt: dict, chains: bytes) -> dict:
    raise AssertionError("the PDF was parsed")


def test_a_receipt_states_every_signer_and_commits_to_the_trail() -> None:
    receipt = voided_receipt()
    assert [s["status"] for s in receipt["signers"]] == ["viewed", "pending"]
    assert receipt["audit"] == {"entries": 5, "head": "cd" * 32}
    assert (receipt["livemode"], receipt["outcome"], receipt["timestamp"]) == (True, "voided", None)
    assert receipt["signature"]["kid"] == KID


@pytest.mark.parametrize(("kept", "held"), [
    ("nothing", None), ("receipt", "full"), ("tombstone", "tombstone"), ("another receipt", None)])
def test_what_pactra_holds_of_a_presented_receipt(kept: str, held: str | None) -> None:
    receipt = voided_receipt()
    digest = jcs_sha256(receipt)
    digests = {"nothing": (None, None), "receipt": (digest, None), "tombstone": (None, digest),
               "another receipt": ("00" * 32, None)}[kept]
    answer = verify_presented(Presented(receipt), Published(JWKS, b""), check_pdf=never_called,
                              kept=lambda receipt_id: digests)
    assert (answer["valid"], answer["verdict"], answer["retained"]) == (True, "valid", held)
    assert (TOMBSTONE_NOTE in answer["notes"]) is (held == "tombstone")


def test_a_changed_receipt_is_invalid() -> None:
    receipt = {**voided_receipt(), "title": "Another lease"}
    answer = verify_presented(Presented(receipt), Published(JWKS, b""), check_pdf=never_called,
                              kept=lambda receipt_id: (None, None))
    assert (answer["valid"], answer["checks"]["signature"]) == (False, "fail")


def test_a_sealed_pdf_the_receipt_does_not_name_is_not_read() -> None:
    answer = verify_presented(Presented(voided_receipt(), signed_pdf_sha256="ef" * 32), Published(JWKS, b""),
                              check_pdf=never_called, kept=lambda receipt_id: (None, None))
    assert answer["skipped"]["pdf_seal"] == NOT_READ


def test_what_is_not_a_receipt_is_refused() -> None:
    with pytest.raises(NotVerifiable):
        verify_presented(Presented(["not", "a", "receipt"]), Published(JWKS, b""), check_pdf=never_called,
                         kept=lambda receipt_id: (None, None))


def state(**changes: object) -> EvidenceState:
    return replace(EvidenceState("agr_1", None, False, None, None), **changes)


@pytest.mark.parametrize(("current", "refused"), [
    (state(), NoReceiptYet),
    (state(outcome="completed"), EvidenceStillIssuing),
    (state(outcome="voided", job_status="issuing"), EvidenceStillIssuing),
    (state(outcome="completed", job_status="failed", job_reason="seal_failed: x"), EvidenceFailed),
])
def test_no_receipt_says_why(current: EvidenceState, refused: type[Exception]) -> None:
    assert not current.settled or refused is EvidenceFailed
    with pytest.raises(refused):
        receipts.issued_receipt(current)


def test_an_issued_receipt_is_settled_and_answered() -> None:
    current = state(outcome="voided", issued=True, receipt={"receipt_id": "rcpt_1"})
    assert current.settled and receipts.issued_receipt(current) == {"receipt_id": "rcpt_1"}


def test_only_a_completed_agreement_has_signed_documents() -> None:
    with pytest.raises(NoSignedDocuments):
        receipts.evidence_file(state(outcome="voided", issued=True), "signed_pdf")
    with pytest.raises(EvidenceStillIssuing):
        receipts.evidence_file(state(outcome="completed", job_status="issuing"), "signed_pdf")
    issued = state(outcome="completed", issued=True, signed_pdf="agr_1/signed.pdf",
                   certificate_pdf="agr_1/certificate.pdf")
    assert receipts.evidence_file(issued, "certificate_pdf") == "agr_1/certificate.pdf"
