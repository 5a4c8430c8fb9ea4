"""The receipts service's HTTP API: audit trails, receipts, the evidence PDFs and the JWKS."""

from collections.abc import Callable, Iterator

from flask import Blueprint, Response, after_this_request, current_app, request, stream_with_context
from sqlalchemy import select, true
from sqlalchemy.orm import Session, sessionmaker

from pactra_contracts.resources import AuditTrail, Receipt, ReceiptKeys
from pactra_platform.web import livemode_filter, require_workspace

from ..adapters import orm
from ..adapters.keys import ensure_active_key, jwks
from ..adapters.orm import EvidenceJob, TrackedAgreement
from ..adapters.repository import entries_of
from ..adapters.seal_store import ensure_active_seal, published_chains
from ..adapters.waits import requested_wait
from ..bootstrap import Receipts
from ..domain.errors import (
    AgreementNotFound,
    EvidenceFailed,
    EvidenceStillIssuing,
    NoReceiptYet,
    NoSignedDocuments,
)

api = Blueprint("receipts", __name__)
# Where create_app keeps the service it built (app.extensions).
EXTENSION = "pactra_receipts"


def receipts() -> Receipts:
    built: Receipts = current_app.extensions[EXTENSION]
    return built


def _sessions() -> sessionmaker:
    return receipts().sessions


def _agreement(session: Session, agreement_id: str) -> TrackedAgreement:
    agreement = session.get(TrackedAgreement, agreement_id)
    mode = livemode_filter()
    if (agreement is None or agreement.workspace_id != require_workspace()
            or (mode is not None and agreement.livemode != mode)):  # test and live never mix
        raise AgreementNotFound(agreement_id)
    return agreement


@api.get("/v1/receipts/keys")
def keys() -> dict:
    ensure_active_key(_sessions(), receipts().settings.master_key)
    with _sessions()() as session:
        return ReceiptKeys.model_validate(jwks(session)).model_dump(mode="json")


@api.get("/v1/receipts/certificates")
def certificates() -> Response:
    settings = receipts().settings
    if not settings.seal_p12:
        ensure_active_seal(_sessions(), settings.master_key)
    with _sessions()() as session:
        chains = published_chains(session, settings)
    return Response(chains, mimetype="application/x-pem-file",
                    headers={"Content-Disposition": 'inline; filename="pactra-sealing-chain.pem"'})


@api.get("/v1/agreements/<agreement_id>/audit")
def audit(agreement_id: str) -> dict:
    with _sessions()() as session:
        _agreement(session, agreement_id)
        trail = AuditTrail.model_validate({"agreement_id": agreement_id,
                                           "entries": entries_of(session, agreement_id)})
    return trail.model_dump(mode="json")


@api.get("/v1/agreements/<agreement_id>/receipt")
def receipt(agreement_id: str) -> dict:
    workspace_id = require_workspace()
    mode = livemode_filter()
    # A key of the other mode is answered as if the agreement did not exist.
    of_mode = TrackedAgreement.livemode == mode if mode is not None else true()

    def read() -> tuple | None:
        # One statement (clients poll this until the receipt is there), so no transaction.
        with receipts().single_reads() as session:
            return session.execute(
                select(TrackedAgreement.outcome, orm.Receipt.body, EvidenceJob.status, EvidenceJob.reason)
                .outerjoin(orm.Receipt, orm.Receipt.agreement_id == TrackedAgreement.id)
                .outerjoin(EvidenceJob, EvidenceJob.agreement_id == TrackedAgreement.id)
                .where(TrackedAgreement.id == agreement_id,
                       TrackedAgreement.workspace_id == workspace_id, of_mode)).first()

    found = _read_or_wait(agreement_id, read, requested_wait(request.headers.getlist("Prefer")))
    if found is None:
        raise AgreementNotFound(agreement_id)
    outcome, body, job_status, reason = found
    if body is not None:
        # Members in the receipt's own order (receipts.md), not the order JSONB keeps them in.
        return Receipt.model_validate(body).model_dump(mode="json")
    if job_status == "failed":
        raise EvidenceFailed(reason)
    if outcome is not None or job_status is not None:
        raise EvidenceStillIssuing()
    raise NoReceiptYet(agreement_id)


def _read_or_wait(agreement_id: str, read: Callable[[], tuple | None], wait: int | None) -> tuple | None:
    """What ``read`` finds now or, when the client prefers to wait and a place to wait in is
    free, once the receipt is there or will not be soon (no such agreement, or failed)."""
    if not wait:
        return read()
    waits = receipts().waits
    with waits.slot() as may_wait:
        if not may_wait:
            return read()
        found = waits.until(agreement_id, read, lambda found: found is None or (
            found[1] is not None or found[2] == "failed"), wait)
    after_this_request(_applied(f"wait={wait}"))
    return found


def _applied(preference: str) -> Callable[[Response], Response]:
    def add_header(response: Response) -> Response:
        response.headers["Preference-Applied"] = preference
        return response
    return add_header


def _pdf(agreement_id: str, which: str) -> Response:
    with _sessions()() as session:
        agreement = _agreement(session, agreement_id)
        issued = session.get(orm.Receipt, agreement_id)
        name = getattr(issued, which) if issued is not None else None
        if issued is None and agreement.outcome == "completed":
            job = session.get(EvidenceJob, agreement_id)
            if job is not None and job.status == "failed":
                raise EvidenceFailed(job.reason)
            raise EvidenceStillIssuing()
        if name is None:
            raise NoSignedDocuments(agreement_id)
    chunks: Iterator[bytes] = receipts().store.get(name)
    filename = f"{agreement_id}-{'signed' if which == 'signed_pdf' else 'certificate'}.pdf"
    return Response(stream_with_context(chunks), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@api.get("/v1/agreements/<agreement_id>/signed.pdf")
def signed_pdf(agreement_id: str) -> Response:
    return _pdf(agreement_id, "signed_pdf")


@api.get("/v1/agreements/<agreement_id>/certificate.pdf")
def certificate_pdf(agreement_id: str) -> Response:
    return _pdf(agreement_id, "certificate_pdf")
