"""The email handlers on fakes: which emails an event causes, to whom, once, and what the bus
is told. No database, broker or mail server."""

from datetime import timedelta

import pytest

from pactra_contracts import events as ev
from pactra_contracts.events import Event, Person, Recipient, SignerSummary, make_event
from pactra_contracts.times import utcnow
from pactra_notify.domain.errors import UnknownAgreement
from pactra_notify.domain.test_mode import SUPPRESSED_REASON
from pactra_notify.service_layer import handlers

from .fakes import FakeEmailBackend, FakePeers, FakeUnitOfWork, fake_mail

WORKSPACE = "ws_1"
AGREEMENT = "agr_1"
SENDER = Person(name="Ada Lovelace", email="Ada@Example.com")
SIGNERS = [("sgr_1", "Bob", "bob@example.com"), ("sgr_2", "Cy", "cy@example.com")]


def created(workspace_id: str = WORKSPACE) -> Event[ev.AgreementCreated]:
    return make_event("agreement.created", ev.AgreementCreated(
        agreement_id=AGREEMENT, title="NDA", document_id="doc_1", document_sha256="c" * 64,
        document_pages=1, message=None, signing_order="parallel", expires_at=utcnow(),
        sender=SENDER, signers=[SignerSummary(id=i, name=n, email=e, order=1) for i, n, e in SIGNERS],
        fields=[]), producer="signing", workspace_id=workspace_id)


def invited(signer: tuple[str, str, str] = SIGNERS[0], *, livemode: bool = True,
            event_type: str = "signer.invited") -> Event[ev.SignerInvited]:
    signer_id, name, email = signer
    return make_event(event_type, ev.SignerInvited(
        agreement_id=AGREEMENT, signer_id=signer_id, name=name, email=email,
        link=ev.SealedLink(sealed=f"sealed:{signer_id}:https://pactra.example/s/tok-{signer_id}"),
        message=None, sender=SENDER, title="NDA", expires_at=None, livemode=livemode),
        producer="signing", workspace_id=WORKSPACE)


def receipt(outcome: str = "completed", recipients: list[Recipient] | None = None, *,
            workspace_id: str = WORKSPACE, livemode: bool = True) -> Event[ev.ReceiptIssued]:
    listed = recipients if recipients is not None else [
        *(Recipient(name=n, email=e, signer_id=i) for i, n, e in SIGNERS),
        Recipient(name=SENDER.name, email=SENDER.email, signer_id=None)]
    return make_event("receipt.issued", ev.ReceiptIssued(
        agreement_id=AGREEMENT, receipt_id="rcp_1", title="NDA", outcome=outcome,
        sealed_sha256=None, receipt_sha256="d" * 64, recipients=listed, livemode=livemode),
        producer="receipts", workspace_id=workspace_id)


def test_an_invitation_reaches_its_signer_once_with_the_opened_link() -> None:
    uow, backend = FakeUnitOfWork(), FakeEmailBackend()
    event = invited()
    handlers.on_signer_invited(event, uow, fake_mail(backend))
    uow.rollback()  # the worker died before its transaction committed
    handlers.on_signer_invited(event, uow, fake_mail(backend))  # the event redelivered
    [email] = backend.sent
    assert email.to == "bob@example.com" and email.kind == "invitation"
    assert "https://pactra.example/s/tok-sgr_1" in email.text
    # Told again by the second run: the first run's outbox rows rolled back with it.
    assert uow.pending_types() == ["notification.sent", "usage.recorded"]
    assert uow.signer_links.sealed(AGREEMENT, "sgr_1") == event.payload().link.sealed
    assert {p.party for p in uow.parties.of_agreement(AGREEMENT)} == {"sgr_1", "sender"}


def test_a_reminder_is_its_own_kind_of_email() -> None:
    uow, backend = FakeUnitOfWork(), FakeEmailBackend()
    handlers.on_signer_reminded(invited(event_type="signer.reminded"), uow, fake_mail(backend))
    assert [e.kind for e in backend.sent] == ["reminder"]


def test_a_refused_address_is_marked_failed_and_not_retried() -> None:
    uow, backend = FakeUnitOfWork(), FakeEmailBackend(refuse=frozenset({"bob@example.com"}))
    event = invited()
    handlers.on_signer_invited(event, uow, fake_mail(backend))
    assert uow.ledger.statuses(event.id) == {"bob@example.com": "failed"}
    assert uow.pending == []


def test_the_ending_email_goes_to_each_recorded_party_and_the_pdf_is_attached() -> None:
    uow, backend, peers = FakeUnitOfWork(), FakeEmailBackend(), FakePeers()
    handlers.on_agreement_created(created(), uow)
    handlers.on_signer_invited(invited(), uow, fake_mail(backend))
    backend.sent.clear()
    handlers.on_receipt_issued(receipt(), uow, fake_mail(backend, peers))
    assert sorted(e.to for e in backend.sent) == ["ada@example.com", "bob@example.com", "cy@example.com"]
    assert all(e.attachments[0].content == peers.pdf for e in backend.sent)
    assert peers.pdf_requests == 1


def test_an_ending_email_links_the_signers_own_copy() -> None:
    uow, backend = FakeUnitOfWork(), FakeEmailBackend()
    handlers.on_agreement_created(created(), uow)
    handlers.on_signer_invited(invited(), uow, fake_mail(backend))
    handlers.on_receipt_issued(receipt("declined"), uow, fake_mail(backend))
    assert "https://pactra.example/s/tok-sgr_1" in backend.to("bob@example.com")[-1].text
    # Cy's link was never seen, and the sender has none.
    assert "/s/" not in backend.to("cy@example.com")[0].text
    assert "/s/" not in backend.to("ada@example.com")[0].text


def test_a_retried_receipt_fetches_no_pdf_when_everyone_was_emailed() -> None:
    uow, backend, peers = FakeUnitOfWork(), FakeEmailBackend(), FakePeers()
    handlers.on_agreement_created(created(), uow)
    event = receipt()
    handlers.on_receipt_issued(event, uow, fake_mail(backend, peers))
    handlers.on_receipt_issued(event, uow, fake_mail(backend, peers))
    assert peers.pdf_requests == 1 and len(backend.sent) == 3


@pytest.mark.parametrize("outcome", ["declined", "voided", "expired"])
def test_an_ended_agreement_needs_no_pdf(outcome: str) -> None:
    uow, backend, peers = FakeUnitOfWork(), FakeEmailBackend(), FakePeers()
    handlers.on_agreement_created(created(), uow)
    handlers.on_receipt_issued(receipt(outcome), uow, fake_mail(backend, peers))
    assert peers.pdf_requests == 0 and {e.kind for e in backend.sent} == {outcome}


def test_a_receipt_reaches_only_the_addresses_signing_named() -> None:
    uow, backend = FakeUnitOfWork(), FakeEmailBackend()
    handlers.on_agreement_created(created(), uow)
    handlers.on_receipt_issued(receipt("voided", [
        Recipient(name="Bob", email="BOB@example.com", signer_id="sgr_1"),
        Recipient(name="Mallory", email="mallory@evil.example", signer_id="sgr_2"),
        Recipient(name="Eve", email="eve@evil.example", signer_id=None),
    ]), uow, fake_mail(backend))
    assert [e.to for e in backend.sent] == ["bob@example.com"]


def test_a_sender_who_also_signs_gets_one_email_the_signers() -> None:
    uow, backend = FakeUnitOfWork(), FakeEmailBackend()
    data = created().payload().model_copy(update={"signers": [
        SignerSummary(id="sgr_9", name="Ada", email=SENDER.email, order=1)]})
    handlers.on_agreement_created(make_event("agreement.created", data, producer="signing",
                                             workspace_id=WORKSPACE), uow)
    event = receipt("voided", [Recipient(name="Ada", email=SENDER.email, signer_id=None),
                               Recipient(name="Ada", email=SENDER.email, signer_id="sgr_9")])
    handlers.on_receipt_issued(event, uow, fake_mail(backend))
    assert [e.to for e in backend.sent] == ["ada@example.com"]
    assert uow.ledger.rows[(event.id, "ada@example.com")].signer_id == "sgr_9"


def test_a_recipient_under_an_address_signing_never_gave_them_is_left_out() -> None:
    uow, backend = FakeUnitOfWork(), FakeEmailBackend()
    handlers.on_agreement_created(created(), uow)
    handlers.on_receipt_issued(receipt("voided", [
        Recipient(name=SENDER.name, email=SENDER.email, signer_id=None),
        Recipient(name=SENDER.name, email=SENDER.email, signer_id="sgr_1"),
    ]), uow, fake_mail(backend))
    [email] = backend.sent
    assert email.to == "ada@example.com" and "/s/" not in email.text


def test_a_receipt_before_its_parties_is_retried_not_guessed() -> None:
    uow, backend = FakeUnitOfWork(), FakeEmailBackend()
    with pytest.raises(UnknownAgreement):
        handlers.on_receipt_issued(receipt(), uow, fake_mail(backend))
    assert backend.sent == []


def test_a_receipt_naming_another_workspace_emails_nobody() -> None:
    uow, backend = FakeUnitOfWork(), FakeEmailBackend()
    handlers.on_agreement_created(created(), uow)
    handlers.on_receipt_issued(receipt(workspace_id="ws_other"), uow, fake_mail(backend))
    assert backend.sent == []


def owner_event(verified: bool, email: str = "owner@example.com",
                at_offset: timedelta = timedelta()) -> Event[ev.AccountUpdated]:
    return make_event("account.updated", ev.AccountUpdated(
        workspace_id=WORKSPACE, owner=Person(name="Owner", email=email), email_verified=verified),
        producer="gateway", workspace_id=WORKSPACE, occurred_at=utcnow() + at_offset)


def test_test_mode_email_goes_only_to_the_verified_owner() -> None:
    uow, backend = FakeUnitOfWork(), FakeEmailBackend()
    owner = ("sgr_3", "Owner", "Owner@Example.com")
    handlers.on_signer_invited(invited(owner, livemode=False), uow, fake_mail(backend))
    assert backend.sent == []  # not verified yet
    handlers.on_account_updated(owner_event(verified=True), uow)
    stranger = invited(livemode=False)
    handlers.on_signer_invited(stranger, uow, fake_mail(backend))
    handlers.on_signer_invited(invited(owner, livemode=False), uow, fake_mail(backend))
    assert [e.to.lower() for e in backend.sent] == ["owner@example.com"]
    row = uow.ledger.rows[(stranger.id, "bob@example.com")]
    assert (row.status, row.error) == ("suppressed", SUPPRESSED_REASON)
    usage = [e for e in uow.pending if e.type == "usage.recorded"]
    assert [e.data["livemode"] for e in usage] == [False]


def test_a_late_account_update_never_undoes_a_newer_one() -> None:
    uow = FakeUnitOfWork()
    handlers.on_account_updated(owner_event(verified=True), uow)
    handlers.on_account_updated(owner_event(verified=False, at_offset=-timedelta(minutes=1)), uow)
    owner = uow.owners.get(WORKSPACE)
    assert owner is not None and owner.email_verified
    handlers.on_workspace_created(make_event("workspace.created", ev.WorkspaceCreated(
        workspace_id=WORKSPACE, name="Acme", plan="free", owner=Person(name="O", email="O@x.example")),
        producer="gateway", workspace_id=WORKSPACE), uow)
    owner = uow.owners.get(WORKSPACE)
    assert owner is not None and owner.email == "o@x.example"


@pytest.mark.parametrize(("event_type", "handler", "kind"), [
    ("account.email_verification_requested", handlers.on_email_verification_requested, "verify_email"),
    ("account.recovery_requested", handlers.on_recovery_requested, "recovery"),
])
def test_the_account_emails_carry_the_opened_link(event_type, handler, kind) -> None:
    uow, backend = FakeUnitOfWork(), FakeEmailBackend()
    event = make_event(event_type, ev.AccountLinkRequested(
        user_id="usr_1", name="Owner", email="Owner@Example.com",
        link=ev.SealedLink(sealed="sealed:usr_1:https://pactra.example/account/t"),
        expires_at=utcnow(), reason="signup" if kind == "verify_email" else "recovery"),
        producer="gateway", workspace_id=WORKSPACE)
    handler(event, uow, fake_mail(backend))
    [email] = backend.sent
    assert (email.kind, email.to) == (kind, "Owner@Example.com")
    assert "https://pactra.example/account/t" in email.text


def test_a_purged_agreement_forgets_its_parties_links_and_emails() -> None:
    uow, backend = FakeUnitOfWork(), FakeEmailBackend()
    handlers.on_agreement_created(created(), uow)
    handlers.on_signer_invited(invited(), uow, fake_mail(backend))
    handlers.on_agreement_purged(make_event("agreement.purged", ev.AgreementPurged(
        agreement_id=AGREEMENT, document_id="doc_1", reason="deleted", purge_document=False),
        producer="signing", workspace_id=WORKSPACE), uow)
    assert uow.parties.of_agreement(AGREEMENT) == []
    assert uow.signer_links.rows == {} and uow.ledger.rows == {}
