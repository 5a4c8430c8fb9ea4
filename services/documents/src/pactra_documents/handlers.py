"""Event handlers of the documents service: which agreements hold which documents."""

from pactra_contracts.events import AgreementCreated, Event
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from .models import AgreementUse

ENDING_EVENTS = ("agreement.completed", "agreement.declined", "agreement.voided",
                 "agreement.expired")


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
    # An ending that overtook this event has already set ``ended``; it stays set.


def on_agreement_ended(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    agreement_id = event.data["agreement_id"]
    use = _use(uow, agreement_id)
    use.ended = True
    if use.workspace_id is None:
        use.workspace_id = event.workspace_id
