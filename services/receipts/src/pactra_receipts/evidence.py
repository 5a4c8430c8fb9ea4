"""Making an ended agreement's evidence (receipts.md, "Order of making the evidence"):
certificate of completion, signed.pdf (then sealing), the signed receipt, its trail entry and
the ``receipt.issued`` event."""

import hashlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from sqlalchemy.orm import Session

from pactra_contracts.events import Event, ReceiptIssued, Recipient, make_event
from pactra_contracts.ids import new_id
from pactra_contracts.times import format_time, utcnow

from .canonical import jcs, jcs_sha256
from .certificate import CertificateFacts, CertificateSigner, render_certificate
from .keys import ReceiptSigner
from .models import Receipt, SignerEvidence, TrackedAgreement
from .recorder import append, signers_of
from .stamping import SignatureImageError, SignerMarks, stamp

SERVICE = "receipts"


class ObjectStore(Protocol):
    def put(self, name: str, chunks: Iterable[bytes], *, workspace_id: str | None = None) -> int: ...

    def get(self, name: str) -> Iterator[bytes]: ...


class EvidenceError(Exception):
    """Evidence cannot be made right now; it is retried. ``code`` is the reason users see
    (pactra_contracts.evidence_reasons); the message and the chained cause are for the log."""

    code = "internal"

    def __init__(self, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        if code is not None:
            self.code = code


class TsaUnavailable(EvidenceError):
    """The time-stamping authority failed: retried quietly until the grace period ends."""

    code = "seal_failed"


@contextmanager
def _stage(code: str) -> Iterator[None]:
    """Name the step that failed: what users are told is the step, never the exception."""
    try:
        yield
    except EvidenceError:
        raise
    except SignatureImageError as exc:
        raise EvidenceError(f"{code}: {exc}", "signature_unusable") from exc
    except Exception as exc:
        raise EvidenceError(f"{code}: {type(exc).__name__}", code) from exc


@dataclass(frozen=True)
class Cause:
    """What the evidence's events are correlated with: the event that ended the agreement."""

    correlation_id: str | None
    causation_id: str | None


@dataclass(frozen=True)
class Sealed:
    pdf: bytes
    timestamp: dict[str, str] | None  # {"tsa", "time"} of the RFC 3161 token


def seal_unsealed(pdf: bytes, tsa_url: str | None) -> Sealed:
    """No sealing at all: for tests of the stamping alone."""
    return Sealed(pdf, None)


@dataclass
class EvidenceMaker:
    fetch_document: Callable[[str, str], bytes]  # (workspace_id, document_id) -> original bytes
    store: ObjectStore
    signer: Callable[[Session], ReceiptSigner]
    verify_url: str
    # (pdf, tsa_url or None) -> the sealed PDF; raises TsaUnavailable when the TSA fails.
    seal: Callable[[bytes, str | None], Sealed] = seal_unsealed
    tsa_url: str | None = None

    def issue(self, session: Session, agreement: TrackedAgreement, cause: Cause,
              publish: Callable[[Event], None], *, timestamped: bool = True) -> dict[str, Any]:
        """Make and store the evidence on the (locked) agreement; ``timestamped=False`` once
        the TSA's grace period is over: the seal, receipt and certificate then say so."""
        tsa_url = self.tsa_url if timestamped else None
        created = agreement.created
        assert created is not None
        # 1. What the receipt commits to: the trail as it stands, before receipt.issued.
        entries, head = agreement.entries, agreement.head
        evidence = signers_of(session, agreement.id)
        with _stage("signing_key_unavailable"):
            key = self.signer(session)
        receipt_id = new_id("rcpt")
        signers = [_receipt_signer(s, evidence.get(s["id"])) for s in created["signers"]]
        sealed_sha256 = signed_name = certificate_name = None
        timestamp: dict[str, str] | None = None
        if agreement.outcome == "completed":
            # Waiting on the network overlaps with drawing: the original is fetched while the
            # certificate is made, and the two files are stored at once.
            with ThreadPoolExecutor(1, thread_name_prefix="evidence-io") as io:
                fetching = io.submit(self.fetch_document, agreement.workspace_id, created["document_id"])
                # 2. the certificate; 3. signed.pdf, sealed.
                with _stage("certificate_failed"):
                    certificate = render_certificate(CertificateFacts(
                        title=created["title"], agreement_id=agreement.id,
                        workspace_id=agreement.workspace_id, receipt_id=receipt_id,
                        outcome=agreement.outcome, document_sha256=created["document_sha256"],
                        document_pages=created["document_pages"],
                        signers=[_certificate_signer(s, evidence.get(s["id"])) for s in created["signers"]],
                        audit_head=head, audit_entries=entries, key_id=key.kid, verify_url=self.verify_url,
                        timestamp_note=_timestamp_note(self.tsa_url, tsa_url),
                        livemode=agreement.livemode,
                    ))
                with _stage("document_unavailable"):
                    original = fetching.result()
                if hashlib.sha256(original).hexdigest() != created["document_sha256"]:
                    raise EvidenceError("the documents service returned bytes that do not match "
                                        "the agreement's document_sha256", "document_mismatch")
                marks = {sid: SignerMarks(e.signature, e.field_values or {}, _day(e.signed_at))
                         for sid, e in evidence.items() if e.signature is not None}
                with _stage("stamp_failed"):
                    stamped = stamp(original, created["fields"], marks, certificate,
                                    test_mode=not agreement.livemode)
                with _stage("seal_failed"):
                    sealed = self.seal(stamped, tsa_url)
                signed_pdf, timestamp = sealed.pdf, sealed.timestamp
                sealed_sha256 = hashlib.sha256(signed_pdf).hexdigest()
                signed_name = f"{agreement.id}/signed.pdf"
                certificate_name = f"{agreement.id}/certificate.pdf"
                with _stage("storage_failed"):
                    # Under the workspace's key: deleting the workspace shreds them (issue 15).
                    storing = io.submit(self.store.put, certificate_name, [certificate],
                                        workspace_id=agreement.workspace_id)
                    self.store.put(signed_name, [signed_pdf], workspace_id=agreement.workspace_id)
                    storing.result()
        # 4. the receipt, signed; then its trail entry and the event.
        issued_at = format_time(utcnow())
        receipt: dict[str, Any] = {
            "receipt_version": 1, "receipt_id": receipt_id, "agreement_id": agreement.id,
            "workspace_id": agreement.workspace_id, "title": created["title"],
            # In every receipt from now on (receipts.md shows it as a member of version 1;
            # receipts issued before it lack it and mean true), inside what the signature covers.
            "livemode": agreement.livemode,
            "outcome": agreement.outcome, "issued_at": issued_at,
            "document": {"sha256": created["document_sha256"], "pages": created["document_pages"],
                         "sealed_sha256": sealed_sha256},
            "signers": signers,
            "audit": {"entries": entries, "head": head},
            "timestamp": timestamp,
        }
        with _stage("signing_key_unavailable"):
            receipt["signature"] = {"alg": "EdDSA", "crv": "Ed25519", "kid": key.kid,
                                    "value": key.sign(jcs(receipt))}
        receipt_sha256 = jcs_sha256(receipt)
        session.add(Receipt(agreement_id=agreement.id, id=receipt_id,
                            workspace_id=agreement.workspace_id, body=receipt, sha256=receipt_sha256,
                            signed_pdf=signed_name, certificate_pdf=certificate_name))
        append(session, agreement, "receipt.issued", issued_at,
               {"kind": "system", "id": "system", "ip": None, "user_agent": None},
               {"agreement_id": agreement.id, "receipt_id": receipt_id,
                "receipt_sha256": receipt_sha256, "outcome": agreement.outcome,
                "sealed_sha256": sealed_sha256})
        sender = created["sender"]
        recipients = [Recipient(name=s["name"], email=s["email"], signer_id=s["id"])
                      for s in created["signers"]]
        recipients.append(Recipient(name=sender["name"], email=sender["email"], signer_id=None))
        publish(make_event(
            "receipt.issued",
            ReceiptIssued(agreement_id=agreement.id, receipt_id=receipt_id, title=created["title"],
                          outcome=agreement.outcome, sealed_sha256=sealed_sha256,
                          receipt_sha256=receipt_sha256, recipients=recipients,
                          livemode=agreement.livemode),
            producer=SERVICE, workspace_id=agreement.workspace_id,
            correlation_id=cause.correlation_id, causation_id=cause.causation_id,
        ))
        return receipt


def _timestamp_note(configured: str | None, used: str | None) -> str:
    if used:
        return f"RFC 3161 timestamp from {used}, embedded in the PDF seal"
    if configured:
        return ("none: the time-stamping authority was unavailable for the whole grace period; "
                "the seal's time is Pactra's own clock")
    return "none: no time-stamping authority is configured; the seal's time is Pactra's own clock"


def _day(at: str | None) -> str | None:
    return date.fromisoformat(at[:10]).isoformat() if at else None


def _receipt_signer(summary: dict[str, Any], evidence: SignerEvidence | None) -> dict[str, Any]:
    return {
        "signer_id": summary["id"], "name": summary["name"], "email": summary["email"],
        "status": evidence.status if evidence else "pending",
        "consent_at": evidence.consent_at if evidence else None,
        "signed_at": evidence.signed_at if evidence else None,
        "ip": evidence.ip if evidence else None,
        "user_agent": evidence.user_agent if evidence else None,
    }


def _certificate_signer(summary: dict[str, Any], evidence: SignerEvidence | None) -> CertificateSigner:
    return CertificateSigner(
        signer_id=summary["id"], name=summary["name"], email=summary["email"],
        status=evidence.status if evidence else "pending",
        consent_at=evidence.consent_at if evidence else None,
        viewed_at=evidence.viewed_at if evidence else None,
        signed_at=evidence.signed_at if evidence else None,
        ip=evidence.ip if evidence else None,
        user_agent=evidence.user_agent if evidence else None,
        signature=evidence.signature if evidence else None,
    )
