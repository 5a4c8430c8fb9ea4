"""The public resources' models against examples of today's wire (api.md, receipts.md): each
validates, refuses an undocumented member, and dumps back to the very same JSON."""

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from pactra_contracts.resources import (
    Agreement,
    AgreementList,
    Analysis,
    AnalysisRequested,
    AuditTrail,
    Document,
    DocumentList,
    PresentedReceipt,
    Receipt,
    ReceiptKeys,
    ReceiptTombstone,
    SignerLink,
    SignerOutcome,
    SigningInfo,
    VerifyResult,
)

H = "ab" * 32  # a SHA-256


def served_from_jsonb(value: Any) -> Any:
    """``value`` as PostgreSQL's jsonb gives it back, which is how the receipts service serves
    receipts and audit entries: every object's members by length, then bytewise."""
    if isinstance(value, dict):
        return {name: served_from_jsonb(value[name])
                for name in sorted(value, key=lambda name: (len(name.encode()), name.encode()))}
    if isinstance(value, list):
        return [served_from_jsonb(item) for item in value]
    return value


T = "2026-11-28T12:00:00.123Z"

DOCUMENT = {"id": "doc_1", "filename": "nda.pdf", "size": 1234, "sha256": H, "pages": 2,
            "page_sizes": [{"width": 612.0, "height": 792.0}, {"width": 595, "height": 842}],
            "created_at": T, "livemode": True}
AGREEMENT = {
    "id": "agr_1", "title": "NDA", "status": "completed", "document_id": "doc_1",
    "message": None, "signing_order": "parallel",
    "sender": {"name": "Ada Owner", "email": "ada@example.com"},
    "expires_at": "2026-12-28T12:00:00.000Z", "created_at": T, "sent_at": T, "completed_at": T,
    "ended_at": T, "evidence_status": "issued", "evidence_reason": None, "receipt_id": "rcpt_1",
    "livemode": False, "metadata": {"crm": "42"},
    "signers": [{"id": "sgr_1", "name": "Grace", "email": "grace@example.com", "order": 1,
                 "status": "signed", "invited_at": T, "viewed_at": T, "signed_at": T,
                 "declined_at": None, "delivery_status": None}],
    # As PostgreSQL writes them (GET) and as Python does (POST): both stay as they were.
    "fields": [{"id": "fld_1", "signer_id": "sgr_1", "type": "signature", "page": 1, "x": 72,
                "y": 600, "width": 180, "height": 40, "required": True, "value": None},
               {"id": "fld_2", "signer_id": "sgr_1", "type": "checkbox", "page": 1, "x": 72.5,
                "y": 600.0, "width": 10.0, "height": 10.0, "required": False, "value": True}],
}
ACTOR = {"kind": "api_key", "id": "key_1", "ip": "203.0.113.9", "user_agent": "curl/8"}
AUDIT = {"agreement_id": "agr_1", "entries": served_from_jsonb([
    {"seq": 0, "type": "agreement.created", "at": T, "actor": ACTOR,
     "data": {"agreement_id": "agr_1", "signers": [{"signer_id": "sgr_1", "order": 1}]},
     "prev": "0" * 64, "hash": H},
    {"seq": 1, "type": "signer.viewed", "at": T,
     "actor": {"kind": "signer", "id": "sgr_1", "ip": "masked", "user_agent": None},
     "data": {"agreement_id": "agr_1", "signer_id": "sgr_1"}, "prev": H, "hash": "cd" * 32},
])}
# receipts.md, "Receipt", with values.
RECEIPT = served_from_jsonb({
    "receipt_version": 1, "receipt_id": "rcpt_1", "agreement_id": "agr_1", "workspace_id": "ws_1",
    "title": "NDA", "livemode": True, "outcome": "completed", "issued_at": T,
    "document": {"sha256": H, "pages": 3, "sealed_sha256": "cd" * 32},
    "signers": [{"signer_id": "sgr_1", "name": "Grace", "email": "grace@example.com",
                 "status": "signed", "consent_at": T, "signed_at": T, "ip": "203.0.113.9",
                 "user_agent": "Firefox"},
                {"signer_id": "sgr_2", "name": "Alan", "email": "alan@example.com",
                 "status": "pending", "consent_at": None, "signed_at": None, "ip": None,
                 "user_agent": None}],
    "audit": {"entries": 12, "head": H},
    "timestamp": {"tsa": "http://tsa.example/", "time": T},
    "signature": {"alg": "EdDSA", "crv": "Ed25519", "kid": "rk_1", "value": "c2lnbmF0dXJl"},
})
# A receipt issued before test mode: no livemode member, no timestamp, nothing sealed.
OLD_RECEIPT = {name: value for name, value in RECEIPT.items() if name != "livemode"} | {
    "outcome": "voided", "timestamp": None,
    "document": {"pages": 3, "sha256": H, "sealed_sha256": None}}
TOMBSTONE = {"receipt_id": "rcpt_1", "agreement_id": "agr_1", "issued_at": T,
             "receipt_sha256": H, "audit_head": H}
KEYS = {"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "eA", "kid": "rk_1", "alg": "EdDSA",
                  "use": "sig", "status": "active"}]}
VERIFIED = {"valid": True, "verdict": "valid", "receipt_id": "rcpt_1", "agreement_id": "agr_1",
            "livemode": True,
            "checks": {"signature": "pass", "audit_chain": "pass", "document_hash": "skipped",
                       "sealed_hash": "skipped", "pdf_seal": "skipped", "certificate_text": "skipped"},
            "errors": [], "skipped": {"document_hash": "no original document given"},
            "notes": [], "retained": "tombstone"}
ANALYSIS = {"id": "ana_1", "document_id": "doc_1", "status": "ready", "summary": "A mutual NDA.",
            "clauses": [{"type": "governing_law", "text": "laws of Delaware", "page": 1,
                         "start": 10, "end": 26, "confidence": 0.9}],
            "engine": "offline", "model": "pactra-clauses-1", "advisory": True}
PENDING_ANALYSIS = {**ANALYSIS, "status": "pending", "summary": None, "clauses": []}
FAILED_ANALYSIS = {**PENDING_ANALYSIS, "status": "failed", "error": "the text is empty"}
INFO = {
    "title": "NDA", "message": "Please sign.", "status": "viewed", "agreement_status": "sent",
    "expires_at": T, "pages": 1, "sender": {"name": "Ada Owner", "email": "ada@example.com"},
    "signer": {"id": "sgr_1", "name": "Grace", "email": "grace@example.com"},
    "page_images": [{"number": 1, "width": 1200, "height": 1553}],
    "fields": [{"id": "fld_1", "type": "signature", "page": 1, "required": True, "value": None,
                "number": 1, "name": "Signature on page 1", "kind": "Signature",
                "box": {"left": 11.765, "top": 75.758, "width": 29.412, "height": 5.051,
                        "below": False, "end": False}}],
    "evidence_status": "none",
}

EXAMPLES: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (Document, DOCUMENT), (Document, {**DOCUMENT, "page_sizes": None, "livemode": False}),
    (DocumentList, {"data": [DOCUMENT], "has_more": True, "next_cursor": "doc_1"}),
    (DocumentList, {"data": [], "has_more": False, "next_cursor": None}),
    (Agreement, AGREEMENT),
    (AgreementList, {"data": [AGREEMENT], "has_more": False, "next_cursor": None}),
    (SignerLink, {"url": "http://127.0.0.1:8080/s/" + "a" * 43, "expires_at": T}),
    (SigningInfo, INFO),
    (SignerOutcome, {"status": "signed", "agreement_status": "completed"}),
    (AuditTrail, AUDIT), (Receipt, RECEIPT), (Receipt, OLD_RECEIPT),
    (ReceiptTombstone, TOMBSTONE), (ReceiptKeys, KEYS), (VerifyResult, VERIFIED),
    (VerifyResult, {**VERIFIED, "valid": False, "verdict": "invalid", "retained": None,
                    "errors": ["signature: the Ed25519 signature does not match the receipt"]}),
    (Analysis, ANALYSIS), (Analysis, PENDING_ANALYSIS), (Analysis, FAILED_ANALYSIS),
    (AnalysisRequested, {"status": "pending", "document_id": "doc_1", "advisory": True}),
]


@pytest.mark.parametrize(("model", "example"), EXAMPLES)
def test_an_example_dumps_back_to_the_same_json(model: type[BaseModel], example: dict) -> None:
    dumped = model.model_validate(example).model_dump(mode="json")
    assert json.dumps(dumped) == json.dumps(example)


@pytest.mark.parametrize(("model", "example"), EXAMPLES)
def test_an_undocumented_member_is_refused(model: type[BaseModel], example: dict) -> None:
    with pytest.raises(ValidationError, match="extra_forbidden"):
        model.model_validate({**example, "undocumented": 1})


def test_a_nested_undocumented_member_is_refused() -> None:
    signer = {**AGREEMENT["signers"][0], "token": "x"}
    with pytest.raises(ValidationError, match="extra_forbidden"):
        Agreement.model_validate({**AGREEMENT, "signers": [signer]})
    with pytest.raises(ValidationError, match="extra_forbidden"):
        Receipt.model_validate({**RECEIPT, "document": {**RECEIPT["document"], "url": "x"}})


def test_a_missing_member_is_refused() -> None:
    without_sender = {name: value for name, value in AGREEMENT.items() if name != "sender"}
    with pytest.raises(ValidationError, match="missing"):
        Agreement.model_validate(without_sender)


def test_evidence_times_are_kept_as_issued() -> None:
    """A receipt's times are signed as strings: one in another form is not a receipt's."""
    with pytest.raises(ValidationError):
        Receipt.model_validate({**RECEIPT, "issued_at": "2026-11-28T12:00:00Z"})


def test_a_member_the_wire_leaves_out_stays_out() -> None:
    """Only a failed analysis has ``error`` (null or not); only a newer receipt ``livemode``."""
    assert "error" not in Analysis.model_validate(ANALYSIS).model_dump(mode="json")
    failed = Analysis.model_validate({**FAILED_ANALYSIS, "error": None}).model_dump(mode="json")
    assert "error" in failed and failed["error"] is None
    assert "livemode" not in Receipt.model_validate(OLD_RECEIPT).model_dump(mode="json")
    with pytest.raises(ValidationError):
        Receipt.model_validate({**RECEIPT, "livemode": None})


def test_every_receipt_is_a_presented_receipt_of_the_same_members() -> None:
    assert set(PresentedReceipt.model_fields) <= set(Receipt.model_fields)
    for receipt in (RECEIPT, OLD_RECEIPT):
        presented = PresentedReceipt.model_validate(receipt)
        assert presented.livemode is receipt.get("livemode", True)


@pytest.mark.parametrize("change", [
    {"document": ["not", "an", "object"]}, {"signers": ["Mallory"]}, {"agreement_id": 7},
    {"livemode": "true"}, {"signature": None},
])
def test_a_presented_receipt_has_the_members_the_checks_read(change: dict) -> None:
    with pytest.raises(ValidationError):
        PresentedReceipt.model_validate({**RECEIPT, **change})


def test_a_presented_receipt_leaves_values_to_the_checks() -> None:
    """A changed value or an added member is the signature check's to fail, not a refusal."""
    odd = {**RECEIPT, "title": 2 ** 80, "extra": True,
           "signers": [{"name": 5, "email": {"a": 1}}], "document": {"sha256": ["x"]}}
    assert PresentedReceipt.model_validate(odd).agreement_id == "agr_1"
