"""Making an ended agreement's evidence (receipts.md, "Order of making the evidence"):
certificate of completion, signed.pdf (then sealing), the signed receipt, its trail entry and
the ``receipt.issued`` event."""

import hashlib
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from pactra_contracts.events import ReceiptIssued, Recipient, make_event
from pactra_contracts.ids import new_id
from pactra_contracts.times import format_time, utcnow

from ..adapters.certificate import CertificateFacts, CertificateSigner, render_certificate
from ..adapters.sealing import Sealed, seal_unsealed
from ..adapters.stamping import SignatureImageError, SignerMarks, stamp
from ..domain import receipt as receipts
from ..domain import trail
from ..domain.canonical import jcs_sha256
from ..domain.errors import EvidenceError
from .unit_of_work import ReceiptsUnitOfWork

SERVICE = "receipts"


class ObjectStore(Protocol):
    def put(self, name: str, chunks: Iterable[bytes], *, workspace_id: str | None = None) -> int: ...


class ReceiptSigner(Protocol):
    """The active receipt-signing key."""

    kid: str

    def sign(self, message: bytes) -> str: ...


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


def _certificate_signer(summary: dict[str, Any], evidence: trail.SignerEvidence | None) -> CertificateSigner:
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


@dataclass
class EvidenceMaker:
    fetch_document: Callable[[str, str], bytes]  # (workspace_id, document_id) -> original bytes
    store: ObjectStore
    signer: Callable[[], ReceiptSigner]
    verify_url: str
    # (pdf, tsa_url or None) -> the sealed PDF; raises TsaUnavailable when the TSA fails.
    seal: Callable[[bytes, str | None], Sealed] = seal_unsealed
    tsa_url: str | None = None

    def issue(self, uow: ReceiptsUnitOfWork, agreement: trail.TrackedAgreement, cause: Cause, *,
              timestamped: bool = True) -> dict[str, Any]:
        """Make and store the evidence on the (locked) agreement; ``timestamped=False`` once
        the TSA's grace period is over: the seal, receipt and certificate then say so."""
        tsa_url = self.tsa_url if timestamped else None
        created = agreement.created
        assert created is not None
        # 1. What the receipt commits to: the trail as it stands, before receipt.issued.
        entries, head = agreement.entries, agreement.head
        evidence = uow.trails.signers(agreement.id)
        with _stage("signing_key_unavailable"):
            key = self.signer()
        receipt_id = new_id("rcpt")
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
                        timestamp_note=receipts.timestamp_note(self.tsa_url, tsa_url),
                        livemode=agreement.livemode,
                    ))
                with _stage("document_unavailable"):
                    original = fetching.result()
                if hashlib.sha256(original).hexdigest() != created["document_sha256"]:
                    raise EvidenceError("the documents service returned bytes that do not match "
                                        "the agreement's document_sha256", "document_mismatch")
                marks = {sid: SignerMarks(e.signature, e.field_values or {}, receipts.signed_on(e.signed_at))
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
        unsigned = receipts.unsigned_receipt(
            agreement, receipt_id=receipt_id, issued_at=issued_at, entries=entries, head=head,
            signers=evidence, sealed_sha256=sealed_sha256, timestamp=timestamp)
        with _stage("signing_key_unavailable"):
            receipt = receipts.sign(unsigned, key.kid, key.sign)
        receipt_sha256 = jcs_sha256(receipt)
        uow.trails.add_receipt(agreement.id, agreement.workspace_id, receipt, receipt_sha256,
                               signed_name, certificate_name)
        uow.trails.add_entry(agreement.id, trail.chain(
            agreement, "receipt.issued", issued_at, trail.SYSTEM_ACTOR,
            receipts.issued_entry_data(receipt, receipt_sha256)))
        sender = created["sender"]
        recipients = [Recipient(name=s["name"], email=s["email"], signer_id=s["id"])
                      for s in created["signers"]]
        recipients.append(Recipient(name=sender["name"], email=sender["email"], signer_id=None))
        uow.publish(make_event(
            "receipt.issued",
            ReceiptIssued(agreement_id=agreement.id, receipt_id=receipt_id, title=created["title"],
                          outcome=agreement.outcome, sealed_sha256=sealed_sha256,
                          receipt_sha256=receipt_sha256, recipients=recipients,
                          livemode=agreement.livemode),
            producer=SERVICE, workspace_id=agreement.workspace_id,
            correlation_id=cause.correlation_id, causation_id=cause.causation_id,
        ))
        return receipt
