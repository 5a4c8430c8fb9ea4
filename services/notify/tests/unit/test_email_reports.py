"""A provider's report (bounce, complaint) on fakes: recorded once on its delivery, told to
signing when it was a signer's, refused when replayed."""

import pytest

from pactra_contracts.events import Event, SignerInvited
from pactra_notify.domain.errors import ReplayedReport
from pactra_notify.service_layer import handlers
from pactra_notify.service_layer.email_events import on_provider_report

from .fakes import FakeEmailBackend, FakeUnitOfWork, fake_mail
from .test_handlers import created, invited


def sent_invitation(uow: FakeUnitOfWork) -> tuple[Event[SignerInvited], str]:
    event = invited()
    handlers.on_signer_invited(event, uow, fake_mail(FakeEmailBackend()))
    row = uow.ledger.rows[(event.id, "bob@example.com")]
    assert row.provider_message_id is not None
    return event, row.provider_message_id


def report(uow: FakeUnitOfWork, message_id: str, event_type: str, data: dict) -> bool:
    return on_provider_report(uow, message_id=message_id, event_type=event_type, data=data,
                              request_id="req_1")


def test_a_bounce_is_recorded_once_and_told_to_signing() -> None:
    uow = FakeUnitOfWork()
    event, email_id = sent_invitation(uow)
    uow.rollback()
    bounce = {"email_id": email_id, "bounce": {"type": "Permanent", "subType": "Suppressed",
                                               "message": "the server's words stay out"}}
    assert report(uow, "msg_1", "email.bounced", bounce)
    assert uow.ledger.rows[(event.id, "bob@example.com")].outcome == "bounced"
    [told] = uow.published
    assert told.type == "signer.bounced" and told.correlation_id == "req_1"
    assert told.data["reason"] == "Permanent/Suppressed"  # the classification, never the words
    assert told.data["signer_id"] == "sgr_1" and told.data["email_kind"] == "invitation"
    # The same report under another message id changes nothing more.
    assert not report(uow, "msg_2", "email.bounced", bounce)
    assert len(uow.published) == 1


def test_a_replayed_message_is_refused() -> None:
    uow = FakeUnitOfWork()
    assert not report(uow, "msg_1", "email.delivered", {"email_id": "unknown"})
    with pytest.raises(ReplayedReport):
        report(uow, "msg_1", "email.delivered", {"email_id": "unknown"})


def test_a_report_of_someone_elses_email_changes_nothing() -> None:
    uow = FakeUnitOfWork()
    assert not report(uow, "msg_1", "email.complained", {"email_id": "re_elsewhere"})
    assert uow.published == []


def test_an_old_delivery_finds_its_signer_by_address() -> None:
    uow = FakeUnitOfWork()
    handlers.on_agreement_created(created(), uow)
    event, email_id = sent_invitation(uow)
    uow.ledger.rows[(event.id, "bob@example.com")].signer_id = None  # recorded before it was kept
    uow.rollback()
    assert report(uow, "msg_1", "email.complained", {"email_id": email_id})
    [told] = uow.published
    assert told.type == "signer.complained" and told.data["signer_id"] == "sgr_1"


def test_other_event_types_are_acknowledged_and_ignored() -> None:
    uow = FakeUnitOfWork()
    _, email_id = sent_invitation(uow)
    uow.rollback()
    assert not report(uow, "msg_1", "email.delivered", {"email_id": email_id})
    assert uow.published == [] and uow.commits == 1
