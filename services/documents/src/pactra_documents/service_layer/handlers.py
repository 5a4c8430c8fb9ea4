"""Event handlers of the documents service: which agreements hold which documents.

An agreement holds its document from its creation until its evidence is settled: the receipts
service reads the original to stamp and seal it after the agreement ended, so the hold ends
with ``receipt.issued``, or with a ``receipt.failed`` that will not be retried by itself, not
with the ending itself (a document deleted in between would make the evidence impossible).
"""

from typing import Any

from pactra_contracts.events import AgreementCreated, Event, ReceiptFailed, ReceiptIssued

from ..domain.model import AgreementUse
from .unit_of_work import DocumentsUnitOfWork

ENDING_EVENTS = ("agreement.completed", "agreement.declined", "agreement.voided",
                 "agreement.expired")
SETTLING_EVENTS = ("receipt.issued", "receipt.failed")


def _use(uow: DocumentsUnitOfWork, agreement_id: str) -> AgreementUse:
    return uow.agreement_uses.get(agreement_id) or AgreementUse(agreement_id)


def on_agreement_created(event: Event[AgreementCreated], uow: DocumentsUnitOfWork) -> None:
    data = event.payload()
    use = _use(uow, data.agreement_id)
    use.created(data.document_id, event.workspace_id)
    uow.agreement_uses.save(use)


def on_agreement_ended(event: Event[Any], uow: DocumentsUnitOfWork) -> None:
    """The ending only notes the agreement (the hold stays until its evidence settles); the
    subscription is kept so that its queue, bound in every broker, keeps being drained."""
    # Every ending (AgreementCompleted or AgreementEnded) names its agreement.
    use = _use(uow, event.data["agreement_id"])
    use.noted(event.workspace_id)
    uow.agreement_uses.save(use)


def on_evidence_settled(event: Event[ReceiptIssued | ReceiptFailed], uow: DocumentsUnitOfWork) -> None:
    data = event.payload()
    if isinstance(data, ReceiptFailed) and data.will_retry:
        return  # retried by itself: it still needs the original
    use = _use(uow, data.agreement_id)
    use.release(event.workspace_id)  # no longer holds its document
    uow.agreement_uses.save(use)
