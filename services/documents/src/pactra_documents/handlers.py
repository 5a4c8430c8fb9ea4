"""Event handlers of the documents service: which agreements hold which documents.

An agreement holds its document from its creation until its evidence is settled: the receipts
service reads the original to stamp and seal it after the agreement ended, so the hold ends
with ``receipt.issued``, or with a ``receipt.failed`` that will not be retried by itself, not
with the ending itself (a document deleted in between would make the evidence impossible).
"""

from pactra_contracts.events import AgreementCreated, Event, ReceiptFailed
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .models import AgreementUse

ENDING_EVENTS = ("agreement.completed", "agreement.declined", "agreement.voided",
                 "agreement.expired")
SETTLING_EVENTS = ("receipt.issued", "receipt.failed")


def _use(uow: SqlAlchemyUnitOfWork, agreement_id: str) -> AgreementUse:
    use = uow.session.get(AgreementUse, agreement_id, with_for_update=True)
    if use is None:
        use = AgreementUse(agreement_id=agreement_id, ended=False)
        uow.session.add(use)
    return use


def on_agreement_created(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    data = event.payload()
    assert isinstance(data, AgreementCreated)
    use = _use(uow, data.agreement_id)
    use.document_id = data.document_id
    use.workspace_id = event.workspace_id
    # A release that overtook this event has already set ``ended``; it stays set.


def on_agreement_ended(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    """The ending only notes the agreement (the hold stays until its evidence settles); the
    subscription is kept so that its queue, bound in every broker, keeps being drained."""
    use = _use(uow, event.data["agreement_id"])
    if use.workspace_id is None:
        use.workspace_id = event.workspace_id


def on_evidence_settled(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    data = event.payload()
    if isinstance(data, ReceiptFailed) and data.will_retry:
        return  # retried by itself: it still needs the original
    use = _use(uow, event.data["agreement_id"])
    use.ended = True  # "released": no longer holds its document
    if use.workspace_id is None:
        use.workspace_id = event.workspace_id
