"""The signing service layer (use cases and event handlers) through the fake unit of work: the
events each publishes, in order, and what it refuses."""

from datetime import UTC, datetime, timedelta

import pytest

from pactra_contracts.api import AgreementCreate, SignRequest
from pactra_contracts.events import (
    SYSTEM,
    AccountUpdated,
    Person,
    ReceiptFailed,
    ReceiptIssued,
    SignerEmailUndelivered,
    WorkspaceCreated,
    WorkspaceUpdated,
    make_event,
)
from pactra_contracts.times import utcnow
from pactra_signing.domain.agreement import Agreement, DocumentInfo
from pactra_signing.domain.errors import Conflict, EmailUnverified, Gone, NotFound, NotReady, TooSoon
from pactra_signing.domain.workspace import Owner, Sender
from pactra_signing.service_layer import abuse, agreements, handlers, retention, signer_actions

from .fakes import FakeUnitOfWork, context

DOC = DocumentInfo(id="doc_1", sha256="ab" * 32, pages=1)
WS = "ws_1"


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    uow.senders.add(Sender(workspace_id=WS, workspace_name="Acme", name="Sam", email="sam@example.com"))
    return uow


def _create(uow: FakeUnitOfWork, order: str = "parallel", count: int = 2, **extra: object) -> Agreement:
    cmd = AgreementCreate.model_validate({
        "title": "NDA", "document_id": "doc_1", "signing_order": order,
        "signers": [{"name": f"S{i}", "email": f"s{i}@example.com"} for i in range(count)], **extra})
    sender = uow.senders.get(WS)
    assert sender is not None
    return agreements.create(cmd, WS, DOC, sender, context(), uow)


def _token(agreement: Agreement, index: int) -> str:
    sealed = agreement.signers[index].token_sealed
    assert sealed is not None
    return context().vault.open(sealed, agreement.signers[index].id)


def _sign(uow: FakeUnitOfWork, token: str) -> signer_actions.Outcome:
    cmd = SignRequest.model_validate({"consent": True, "signature": {"type": "typed", "text": "X"}})
    return signer_actions.sign(token, cmd, context(), uow, "203.0.113.9", "pytest")


def test_sending_confirms_usage_then_sends_then_invites(uow: FakeUnitOfWork) -> None:
    agreement = _create(uow)
    assert uow.types() == ["agreement.created"]
    agreements.send(WS, agreement.id, context(), uow)
    assert uow.types()[1:] == ["usage.recorded", "usage.recorded", "agreement.sent",
                               "signer.invited", "signer.invited"]
    usage = [e.payload() for e in uow.of_type("usage.recorded")]
    assert [(u.metric, u.quantity, u.source_event_id) for u in usage] == [
        ("agreements_sent", 1, f"{agreement.id}:send"), ("signers_invited", 2, f"{agreement.id}:send")]
    # Each event about the agreement is one version of it; usage is none.
    assert [e.data.get("agreement_version") for e in uow.published if e.type != "usage.recorded"] == [
        1, 2, 3, 4]
    assert agreement.version == 4
    assert all(s.status == "invited" and s.token_hash for s in agreement.signers)


def test_a_refused_send_publishes_nothing(uow: FakeUnitOfWork) -> None:
    agreement = _create(uow)
    agreements.send(WS, agreement.id, context(), uow)
    published = list(uow.published)
    with pytest.raises(Conflict):
        agreements.send(WS, agreement.id, context(), uow)
    with pytest.raises(NotFound):
        agreements.send("ws_other", agreement.id, context(), uow)
    with pytest.raises(NotFound):
        agreements.send(WS, agreement.id, context(), uow, livemode=False)
    assert uow.published == published


def test_a_new_workspace_invites_at_most_its_daily_cap(uow: FakeUnitOfWork) -> None:
    sender = uow.senders.get(WS)
    assert sender is not None
    sender.workspace_created_at = utcnow() - timedelta(days=1)
    first = _create(uow, count=2)
    agreements.send(WS, first.id, context(), uow, new_workspace_signer_cap=3)
    second = _create(uow, count=2)
    with pytest.raises(TooSoon, match="at most 3 signers a day; 2 were invited") as refused:
        agreements.send(WS, second.id, context(), uow, new_workspace_signer_cap=3)
    assert 86_000 < refused.value.retry_after <= 86_400
    sender.workspace_created_at = utcnow() - timedelta(days=8)
    agreements.send(WS, second.id, context(), uow, new_workspace_signer_cap=3)


def test_an_unverified_owner_sends_only_to_themselves(uow: FakeUnitOfWork) -> None:
    def owner(verified: bool) -> Owner:
        return Owner(email="sam@example.com", email_verified=verified)

    abuse.require_verified_or_own_address(lambda: uow, lambda _ws: owner(False), WS, {"SAM@example.com"})
    with pytest.raises(EmailUnverified):
        abuse.require_verified_or_own_address(lambda: uow, lambda _ws: owner(False), WS,
                                              {"sam@example.com", "x@example.com"})
    abuse.require_verified_or_own_address(lambda: uow, lambda _ws: owner(True), WS, {"x@example.com"})
    sender = uow.senders.get(WS)
    assert sender is not None and sender.email_verified  # remembered: the gateway is not asked again

    def not_asked(_ws: str) -> Owner:
        raise AssertionError("asked the gateway")

    abuse.require_verified_or_own_address(lambda: uow, not_asked, WS, {"x@example.com"})


def test_a_missing_sender_is_waited_for_then_not_ready() -> None:
    with pytest.raises(NotReady):
        agreements.sender_of(FakeUnitOfWork, WS, patience=0)


def test_sequential_signing_through_the_links(uow: FakeUnitOfWork) -> None:
    agreement = _create(uow, order="sequential", count=2)
    agreements.send(WS, agreement.id, context(), uow)
    assert len(uow.of_type("signer.invited")) == 1
    first_token = _token(agreement, 0)
    viewed, signer = signer_actions.view(first_token, context(), uow, None, None)
    signer_actions.view(first_token, context(), uow, None, None)
    assert (viewed, signer.status, len(uow.of_type("signer.viewed"))) == (agreement, "viewed", 1)
    assert _sign(uow, first_token) == signer_actions.Outcome("signed", "sent")
    assert uow.types()[-2:] == ["signer.signed", "signer.invited"]
    signed = uow.of_type("signer.signed")[0]
    assert signed.actor.model_dump() == {"kind": "signer", "id": agreement.signers[0].id,
                                         "ip": "203.0.113.9", "user_agent": "pytest"}
    assert _sign(uow, _token(agreement, 1)) == signer_actions.Outcome("signed", "completed")
    assert uow.types()[-2:] == ["signer.signed", "agreement.completed"]
    assert len(uow.of_type("agreement.completed")[0].payload().signatures) == 2
    with pytest.raises(Gone):
        _sign(uow, first_token)


def test_declining_ends_the_agreement_and_tells_those_invited(uow: FakeUnitOfWork) -> None:
    agreement = _create(uow, order="sequential", count=2)
    agreements.send(WS, agreement.id, context(), uow)
    outcome = signer_actions.decline(_token(agreement, 0), "not today", context(), uow, None, None)
    assert outcome == signer_actions.Outcome("declined", "declined")
    assert uow.types()[-2:] == ["signer.declined", "agreement.declined"]
    ended = uow.of_type("agreement.declined")[0].payload()
    assert (ended.reason, ended.notify_signer_ids) == ("not today", [agreement.signers[0].id])


def test_an_overdue_agreement_expires_when_its_signer_comes(uow: FakeUnitOfWork) -> None:
    agreement = _create(uow)
    agreements.send(WS, agreement.id, context(), uow)
    agreement.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(Gone):
        _sign(uow, _token(agreement, 0))
    # The expiry was committed before the refusal.
    assert uow.types()[-1] == "agreement.expired"
    assert (agreement.status, agreement.evidence_status) == ("expired", "issuing")


def test_the_expiry_job_ends_only_what_is_due(uow: FakeUnitOfWork) -> None:
    due, later = _create(uow), _create(uow)
    for agreement in (due, later):
        agreements.send(WS, agreement.id, context(), uow)
    due.expires_at = utcnow() - timedelta(seconds=1)
    assert agreements.expire_due(context(), uow) == 1
    assert (due.status, later.status) == ("expired", "sent")
    expired = uow.of_type("agreement.expired")[0].payload()
    assert expired.reason == "The agreement expired before everyone signed."
    assert agreements.expire_due(context(), uow) == 0


def test_void_remind_and_the_embedded_link(uow: FakeUnitOfWork) -> None:
    agreement = _create(uow)
    with pytest.raises(Conflict, match="Send the agreement first"):
        agreements.signer_link(WS, agreement.id, agreement.signers[0].id, context(), uow)
    agreements.send(WS, agreement.id, context(), uow)
    url, expires_at = agreements.signer_link(WS, agreement.id, agreement.signers[0].id, context(), uow)
    assert (url, expires_at) == (f"https://sign.example/s/{_token(agreement, 0)}", agreement.expires_at)
    with pytest.raises(NotFound):
        agreements.signer_link(WS, agreement.id, "sgr_unknown", context(), uow)
    agreements.remind(WS, agreement.id, context(), uow)
    assert len(uow.of_type("signer.reminded")) == 2
    with pytest.raises(TooSoon):
        agreements.remind(WS, agreement.id, context(), uow)
    agreements.void(WS, agreement.id, "wrong file", context(), uow)
    assert uow.types()[-1] == "agreement.voided"
    with pytest.raises(Gone):
        agreements.signer_link(WS, agreement.id, agreement.signers[0].id, context(), uow)


def test_deleting_and_retention(uow: FakeUnitOfWork) -> None:
    draft = _create(uow)
    retention.delete(WS, draft.id, context(), uow)
    purged = uow.of_type("agreement.purged")[0].payload()
    assert (purged.reason, purged.purge_document) == ("deleted", False)
    assert uow.agreements.stored == {}
    ended = _create(uow)
    agreements.send(WS, ended.id, context(), uow)
    agreements.void(WS, ended.id, "no", context(), uow)
    with pytest.raises(Conflict, match="still being issued"):
        retention.delete(WS, ended.id, context(), uow)
    ended.evidence_issued("rcpt_1")
    handlers.on_workspace_updated(make_event("workspace.updated", WorkspaceUpdated(
        workspace_id=WS, changes={"retention_days": 1}), producer="gateway", workspace_id=WS), uow)
    assert retention.purge_due(context(), uow) == []
    ended.ended_at = utcnow() - timedelta(days=2)
    assert retention.run(context(), lambda: uow) == 1
    assert uow.of_type("agreement.purged")[-1].payload().purge_document is True


def _event(event_type: str, data: object, occurred_at: datetime | None = None, workspace: str = WS):
    return make_event(event_type, data, producer="gateway", workspace_id=workspace,  # type: ignore[arg-type]
                      occurred_at=occurred_at)


def test_the_sender_follows_the_newest_owner_whatever_the_order() -> None:
    uow = FakeUnitOfWork()
    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    updated = _event("account.updated", AccountUpdated(
        workspace_id=WS, owner=Person(name="New", email="new@example.com"), email_verified=True), late)
    with pytest.raises(handlers.SenderNotYetKnown):
        handlers.on_account_updated(updated, uow)
    handlers.on_workspace_created(_event("workspace.created", WorkspaceCreated(
        workspace_id=WS, name="Acme", owner=Person(name="Old", email="old@example.com"), plan="free"),
        early), uow)
    handlers.on_account_updated(updated, uow)
    handlers.on_account_updated(_event("account.updated", AccountUpdated(
        workspace_id=WS, owner=Person(name="Older", email="older@example.com"), email_verified=False),
        early), uow)
    sender = uow.senders.get(WS)
    assert sender is not None
    assert (sender.workspace_name, sender.name, sender.email, sender.email_verified,
            sender.workspace_created_at) == ("Acme", "New", "new@example.com", True, early)
    handlers.on_workspace_updated(_event("workspace.updated", WorkspaceUpdated(
        workspace_id=WS, changes={"name": "Acme Ltd"})), uow)
    assert sender.workspace_name == "Acme Ltd"


def test_the_receipts_and_bounces_reach_their_own_workspaces_agreement(uow: FakeUnitOfWork) -> None:
    agreement = _create(uow)
    agreements.send(WS, agreement.id, context(), uow)
    agreements.void(WS, agreement.id, "no", context(), uow)
    handlers.on_receipt_failed(_event("receipt.failed", ReceiptFailed(
        agreement_id=agreement.id, reason="S3 down")), uow)
    assert (agreement.evidence_status, agreement.evidence_reason) == ("failed", "S3 down")
    issued = ReceiptIssued(agreement_id=agreement.id, receipt_id="rcpt_1", title="NDA", outcome="voided",
                           sealed_sha256=None, receipt_sha256="cd" * 32, recipients=[])
    handlers.on_receipt_issued(_event("receipt.issued", issued.model_copy(update={"receipt_id": "rcpt_x"}),
                                      workspace="ws_other"), uow)
    assert agreement.receipt_id is None
    handlers.on_receipt_issued(_event("receipt.issued", issued), uow)
    handlers.on_receipt_failed(_event("receipt.failed", ReceiptFailed(
        agreement_id=agreement.id, reason="late")), uow)
    assert (agreement.evidence_status, agreement.evidence_reason, agreement.receipt_id) == (
        "issued", None, "rcpt_1")
    signer = agreement.signers[0]
    for workspace in ("ws_other", WS):
        handlers.on_signer_email_undelivered(_event("signer.bounced", SignerEmailUndelivered(
            agreement_id=agreement.id, signer_id=signer.id, delivery_status="bounced",
            email_kind="invitation"), workspace=workspace), uow)
        assert signer.delivery_status == (None if workspace == "ws_other" else "bounced")


def test_the_context_stamps_mode_and_actor(uow: FakeUnitOfWork) -> None:
    cmd = AgreementCreate.model_validate({"title": "T", "document_id": "doc_1",
                                          "signers": [{"name": "A", "email": "a@example.com"}]})
    sender = uow.senders.get(WS)
    assert sender is not None
    agreement = agreements.create(cmd, WS, DOC, sender, context(), uow, livemode=False)
    agreements.send(WS, agreement.id, context(), uow)
    sent = uow.of_type("agreement.sent")[0]
    assert (sent.actor, sent.correlation_id, sent.workspace_id) == (SYSTEM, "req_test", WS)
    assert all(e.data["livemode"] is False for e in uow.of_type("usage.recorded"))
