"""The receipts service's HTTP API: audit trails, receipts, the evidence PDFs and the JWKS."""

from collections.abc import Callable, Iterator

from flask import Blueprint, Response, after_this_request, current_app, request, stream_with_context
from sqlalchemy.orm import sessionmaker

from pactra_contracts.resources import AuditTrail, Receipt, ReceiptKeys
from pactra_platform.web import livemode_filter, require_workspace

from ..adapters.keys import ensure_active_key, jwks
from ..adapters.read_model import evidence_state, trail_of
from ..adapters.seal_store import ensure_active_seal, published_chains
from ..adapters.waits import requested_wait
from ..bootstrap import Receipts
from ..domain.errors import AgreementNotFound
from ..domain.receipt import EvidenceState, evidence_file, issued_receipt

api = Blueprint("receipts", __name__)
# Where create_app keeps the service it built (app.extensions).
EXTENSION = "pactra_receipts"


def receipts() -> Receipts:
    built: Receipts = current_app.extensions[EXTENSION]
    return built


def _sessions() -> sessionmaker:
    return receipts().sessions


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
    workspace_id, mode = require_workspace(), livemode_filter()
    with _sessions()() as session:
        entries = trail_of(session, agreement_id, workspace_id, mode)
    if entries is None:
        raise AgreementNotFound(agreement_id)
    trail = AuditTrail.model_validate({"agreement_id": agreement_id, "entries": entries})
    return trail.model_dump(mode="json")


@api.get("/v1/agreements/<agreement_id>/receipt")
def receipt(agreement_id: str) -> dict:
    workspace_id, mode = require_workspace(), livemode_filter()

    def read() -> EvidenceState | None:
        # One statement (clients poll this until the receipt is there), so no transaction.
        with receipts().single_reads() as session:
            return evidence_state(session, agreement_id, workspace_id, mode)

    state = _read_or_wait(agreement_id, read, requested_wait(request.headers.getlist("Prefer")))
    if state is None:
        raise AgreementNotFound(agreement_id)
    # Members in the receipt's own order (receipts.md), not the order JSONB keeps them in.
    return Receipt.model_validate(issued_receipt(state)).model_dump(mode="json")


def _read_or_wait(agreement_id: str, read: Callable[[], EvidenceState | None],
                  wait: int | None) -> EvidenceState | None:
    """What ``read`` finds now or, when the client prefers to wait and a place to wait in is
    free, once the receipt is there or will not be soon (no such agreement, or failed)."""
    if not wait:
        return read()
    waits = receipts().waits
    with waits.slot() as may_wait:
        if not may_wait:
            return read()
        found = waits.until(agreement_id, read, lambda found: found is None or found.settled, wait)
    after_this_request(_applied(f"wait={wait}"))
    return found


def _applied(preference: str) -> Callable[[Response], Response]:
    def add_header(response: Response) -> Response:
        response.headers["Preference-Applied"] = preference
        return response
    return add_header


def _pdf(agreement_id: str, which: str) -> Response:
    workspace_id, mode = require_workspace(), livemode_filter()
    with receipts().single_reads() as session:
        state = evidence_state(session, agreement_id, workspace_id, mode, with_receipt=False)
    if state is None:
        raise AgreementNotFound(agreement_id)
    chunks: Iterator[bytes] = receipts().store.get(evidence_file(state, which))
    filename = f"{agreement_id}-{'signed' if which == 'signed_pdf' else 'certificate'}.pdf"
    return Response(stream_with_context(chunks), mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@api.get("/v1/agreements/<agreement_id>/signed.pdf")
def signed_pdf(agreement_id: str) -> Response:
    return _pdf(agreement_id, "signed_pdf")


@api.get("/v1/agreements/<agreement_id>/certificate.pdf")
def certificate_pdf(agreement_id: str) -> Response:
    return _pdf(agreement_id, "certificate_pdf")
