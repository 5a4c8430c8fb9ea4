"""What the signing service does with the receipts service's events (real database)."""

import re

from sqlalchemy import event as sqlalchemy_event

from pactra_contracts.api import AgreementCreate
from pactra_contracts.events import ReceiptFailed, ReceiptIssued, SignerEmailUndelivered, make_event
from pactra_signing.domain.agreement import Agreement, DocumentInfo, Signer
from pactra_signing.service_layer import agreements, handlers

DOC = DocumentInfo(id="doc_1", sha256="ab" * 32, pages=1)


def _ended(ctx, uow_factory, sender) -> Agreement:
    cmd = AgreementCreate.model_validate({
        "title": "NDA", "document_id": "doc_1",
        "signers": [{"name": "A", "email": "a@example.com"}]})
    agreement = agreements.create(cmd, "ws_test", DOC, sender, ctx, uow_factory())
    agreements.send("ws_test", agreement.id, ctx, uow_factory())
    return agreements.void("ws_test", agreement.id, "wrong file", ctx, uow_factory())


def _handle(handler, uow_factory, event) -> Agreement:
    """Run the handler; it reads and writes the agreement's own row only (no signers, no fields)."""
    statements: list[str] = []

    def remember(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    with uow_factory() as uow:
        engine = uow.session.get_bind()
        sqlalchemy_event.listen(engine, "before_cursor_execute", remember)
        try:
            handler(event, uow)
            uow.commit()
        finally:
            sqlalchemy_event.remove(engine, "before_cursor_execute", remember)
    assert statements and not [s for s in statements if re.search(r"\b(signers|fields)\b", s)]
    with uow_factory() as uow:
        return uow.session.get(Agreement, event.data["agreement_id"])


def test_evidence_status_follows_the_receipt_and_a_late_failure_changes_nothing(ctx, uow_factory, sender):
    agreement = _ended(ctx, uow_factory, sender)
    assert agreement.evidence_status == "issuing"

    def failed(workspace_id: str):
        return make_event("receipt.failed", ReceiptFailed(agreement_id=agreement.id, reason="S3 down"),
                          producer="receipts", workspace_id=workspace_id)

    stored = _handle(handlers.on_receipt_failed, uow_factory, failed("ws_test"))
    assert (stored.evidence_status, stored.evidence_reason) == ("failed", "S3 down")
    issued = make_event("receipt.issued", ReceiptIssued(
        agreement_id=agreement.id, receipt_id="rcpt_1", title="NDA", outcome="voided",
        sealed_sha256=None, receipt_sha256="cd" * 32, recipients=[]),
        producer="receipts", workspace_id="ws_test")
    stored = _handle(handlers.on_receipt_issued, uow_factory, issued)
    assert (stored.evidence_status, stored.evidence_reason, stored.receipt_id) == ("issued", None, "rcpt_1")
    assert _handle(handlers.on_receipt_failed, uow_factory, failed("ws_test")).evidence_status == "issued"
    # Another workspace's event names no agreement of its own.
    other = make_event("receipt.issued", issued.payload().model_copy(update={"receipt_id": "rcpt_2"}),
                       producer="receipts", workspace_id="ws_other")
    assert _handle(handlers.on_receipt_issued, uow_factory, other).receipt_id == "rcpt_1"


def test_a_bounce_marks_the_signer_of_its_own_workspace_only(ctx, uow_factory, sender):
    agreement = _ended(ctx, uow_factory, sender)
    signer_id = agreement.signers[0].id

    def report(status: str, workspace_id: str, signer: str = signer_id) -> str | None:
        event = make_event(f"signer.{status}", SignerEmailUndelivered(
            agreement_id=agreement.id, signer_id=signer, delivery_status=status,
            email_kind="invitation"), producer="notify", workspace_id=workspace_id)
        with uow_factory() as uow:
            handlers.on_signer_email_undelivered(event, uow)
            uow.commit()
        with uow_factory() as uow:
            return uow.session.get(Signer, signer_id).delivery_status

    # Another workspace's event, or a signer of no such agreement, changes nothing.
    assert report("bounced", "ws_other") is None
    assert report("bounced", "ws_test", "sgr_unknown") is None
    assert report("bounced", "ws_test") == "bounced"
    assert report("complained", "ws_test") == "complained"
