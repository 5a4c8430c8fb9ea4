"""The agreement's life cycle (domain/agreement.py), exhaustively: every status crossed with
every action, each either allowed (and what it leads to) or refused with its domain error."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from pactra_contracts.api import AgreementCreate, SignRequest
from pactra_signing.domain.agreement import ENDED, STATUSES, Agreement, DocumentInfo, Signer
from pactra_signing.domain.errors import Conflict, Gone, Invalid, SigningError, TooSoon
from pactra_signing.domain.workspace import Sender

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
DOC = DocumentInfo(id="doc_1", sha256="ab" * 32, pages=2, page_sizes=((600.0, 800.0), (800.0, 600.0)))
SENDER = Sender(workspace_id="ws_1", workspace_name="Acme", name="Sam", email="sam@example.com")
TYPED = {"type": "typed", "text": "Ann"}


def _draft(order: str = "parallel", count: int = 2, **extra: object) -> Agreement:
    cmd = AgreementCreate.model_validate({
        "title": "NDA", "document_id": "doc_1", "signing_order": order,
        "signers": [{"name": f"S{i}", "email": f"s{i}@example.com"} for i in range(count)],
        **extra})
    return Agreement.draft(cmd, "ws_1", DOC, SENDER, NOW)


def _sent(agreement: Agreement) -> Agreement:
    for signer in agreement.send(NOW):
        _invite(signer)
    return agreement


def _invite(signer: Signer) -> None:
    # What the service layer does with each signer send() returns: invite, and seal a token.
    signer.invite(NOW)
    signer.token_sealed = b"sealed"


def _sign(agreement: Agreement, signer: Signer, now: datetime = NOW) -> None:
    signed = agreement.sign(signer, SignRequest.model_validate({"consent": True, "signature": TYPED}),
                            now, "203.0.113.9", "pytest")
    for following in signed.following:
        _invite(following)


def agreement_in(status: str) -> Agreement:
    """An agreement brought to ``status`` by the transitions themselves."""
    agreement = _draft()
    if status == "draft":
        return agreement
    _sent(agreement)
    first, second = agreement.signers
    if status == "completed":
        _sign(agreement, first)
        _sign(agreement, second)
    elif status == "declined":
        agreement.decline(first, "no", NOW, None, None)
    elif status == "voided":
        agreement.void("wrong file", NOW)
    elif status == "expired":
        agreement.expire(agreement.expires_at)
    assert agreement.status == status
    return agreement


def _link(agreement: Agreement) -> None:
    agreement.check_link(agreement.signers[0])


ACTIONS: dict[str, Callable[[Agreement], object]] = {
    "send": lambda a: a.send(NOW),
    "remind": lambda a: a.remind(NOW),
    "void": lambda a: a.void("changed my mind", NOW),
    "expire": lambda a: a.expire(a.expires_at + timedelta(seconds=1)),
    "view": lambda a: a.view(a.signers[0], NOW),
    "sign": lambda a: _sign(a, a.signers[0]),
    "decline": lambda a: a.decline(a.signers[0], "no", NOW, None, None),
    "link": _link,
    "delete": lambda a: a.check_deletable(),
}

# (status, action) -> the status after it, or the error that refuses it. Viewing never refuses:
# a look at an agreement that cannot be signed changes nothing.
ALLOWED = {
    ("draft", "send"): "sent",
    ("draft", "view"): "draft",
    ("draft", "delete"): "draft",
    ("sent", "remind"): "sent",
    ("sent", "void"): "voided",
    ("sent", "expire"): "expired",
    ("sent", "view"): "sent",
    ("sent", "sign"): "sent",  # one of two signers: the other still has to
    ("sent", "decline"): "declined",
    ("sent", "link"): "sent",
    **{(ended, "view"): ended for ended in ENDED},
}
REFUSED: dict[str, type[SigningError]] = {
    "send": Conflict, "remind": Conflict, "void": Conflict, "expire": Conflict,
    "sign": Gone, "decline": Gone, "delete": Conflict,
}


def _expected(status: str, action: str) -> str | type[SigningError]:
    if (status, action) in ALLOWED:
        return ALLOWED[(status, action)]
    if action == "link":
        return Gone if status in ENDED else Conflict
    return REFUSED[action]


def test_the_matrix_covers_every_status_and_action() -> None:
    assert set(STATUSES) == {"draft", "sent", *ENDED}
    assert set(ACTIONS) == {"send", "remind", "void", "expire", "view", "sign", "decline", "link", "delete"}
    assert {action for _, action in ALLOWED} | set(REFUSED) | {"link"} == set(ACTIONS)


@pytest.mark.parametrize("action", ACTIONS)
@pytest.mark.parametrize("status", STATUSES)
def test_every_status_crossed_with_every_action(status: str, action: str) -> None:
    agreement = agreement_in(status)
    expected = _expected(status, action)
    if isinstance(expected, str):
        ACTIONS[action](agreement)
        assert agreement.status == expected
        return
    before = (agreement.status, agreement.ended_at, agreement.evidence_status,
              [(s.status, s.signed_at, s.declined_at) for s in agreement.signers])
    with pytest.raises(expected):
        ACTIONS[action](agreement)
    # A refusal changes nothing.
    assert before == (agreement.status, agreement.ended_at, agreement.evidence_status,
                      [(s.status, s.signed_at, s.declined_at) for s in agreement.signers])


@pytest.mark.parametrize(("status", "message"), [
    ("sent", "Only a draft can be sent; this agreement is sent."),
    ("voided", "Only a draft can be sent; this agreement is voided."),
])
def test_the_refusals_say_why(status: str, message: str) -> None:
    with pytest.raises(Conflict, match=f"^{message}$"):
        agreement_in(status).send(NOW)


def test_ending_asks_for_evidence_and_completion_is_timed() -> None:
    for status in ENDED:
        agreement = agreement_in(status)
        assert (agreement.evidence_status, agreement.ended_at) == ("issuing", NOW if status != "expired"
                                                                   else agreement.expires_at)
        assert (agreement.completed_at is not None) == (status == "completed")
    assert agreement_in("declined").outcome_reason == "no"
    assert agreement_in("expired").outcome_reason == "The agreement expired before everyone signed."


def test_an_ended_agreement_is_deleted_once_its_evidence_is_issued() -> None:
    agreement = agreement_in("voided")
    with pytest.raises(Conflict, match="still being issued"):
        agreement.check_deletable()
    agreement.evidence_failed("S3 down")
    agreement.check_deletable()
    agreement.evidence_issued("rcpt_1")
    agreement.evidence_failed("late retry")
    assert (agreement.evidence_status, agreement.evidence_reason, agreement.receipt_id) == (
        "issued", None, "rcpt_1")
    agreement.check_deletable()


def test_a_draft_past_its_time_cannot_be_sent_and_a_sent_one_expires_only_when_due() -> None:
    agreement = _draft()
    with pytest.raises(Conflict, match="expired before it was sent"):
        agreement.send(agreement.expires_at)
    sent = agreement_in("sent")
    with pytest.raises(Conflict, match="not reached its expiry"):
        sent.expire(NOW)
    assert not sent.overdue(NOW) and sent.overdue(sent.expires_at)


@pytest.mark.parametrize("signer_status", ["pending", "invited", "viewed", "signed", "declined"])
@pytest.mark.parametrize("action", ["sign", "decline"])
def test_only_a_waiting_signer_signs_or_declines(signer_status: str, action: str) -> None:
    agreement = _draft(count=3)
    _sent(agreement)
    signer = agreement.signers[0]
    signer.status = signer_status
    act = ACTIONS[action] if action == "decline" else (lambda a: _sign(a, a.signers[0]))
    if signer_status in ("invited", "viewed"):
        act(agreement)
        assert signer.status == {"sign": "signed", "decline": "declined"}[action]
    else:
        with pytest.raises(Gone):
            act(agreement)
        assert signer.status == signer_status


def test_the_first_look_marks_the_signer_viewed_once() -> None:
    agreement = agreement_in("sent")
    signer = agreement.signers[0]
    assert agreement.view(signer, NOW) is True
    assert (signer.status, signer.viewed_at) == ("viewed", NOW)
    assert agreement.view(signer, NOW + timedelta(minutes=1)) is False
    assert signer.viewed_at == NOW


def test_sequential_signers_take_turns_and_the_last_signature_completes() -> None:
    agreement = _draft(order="sequential", count=3)
    invitees = agreement.send(NOW)
    assert invitees == [agreement.signers[0]]
    for invitee in invitees:
        _invite(invitee)
    first, second, third = agreement.signers
    assert agreement.next_to_invite() == []  # the first is still waiting
    _sign(agreement, first)
    assert [s.status for s in agreement.signers] == ["signed", "invited", "pending"]
    _sign(agreement, second)
    signed = agreement.sign(third, SignRequest.model_validate({"consent": True, "signature": TYPED}),
                            NOW, None, None)
    assert signed.completed and signed.following == []
    assert (agreement.status, agreement.completed_at) == ("completed", NOW)


def test_signing_needs_consent_and_records_the_signer() -> None:
    agreement = agreement_in("sent")
    signer = agreement.signers[0]
    with pytest.raises(Invalid, match="Consent"):
        agreement.sign(signer, SignRequest.model_validate({"consent": False, "signature": TYPED}),
                       NOW, None, None)
    assert signer.status == "invited"
    _sign(agreement, signer)
    assert (signer.status, signer.consent_at, signer.viewed_at, signer.ip, signer.user_agent) == (
        "signed", NOW, NOW, "203.0.113.9", "pytest")
    assert signer.signature == {"type": "typed", "text": "Ann", "png_base64": None}


def test_a_signer_invited_twice_is_refused() -> None:
    agreement = agreement_in("sent")
    with pytest.raises(Conflict, match="pending"):
        agreement.signers[0].invite(NOW)


def test_reminders_are_at_most_hourly_per_signer() -> None:
    agreement = agreement_in("sent")
    assert agreement.remind(NOW) == agreement.signers
    with pytest.raises(TooSoon) as refused:
        agreement.remind(NOW + timedelta(minutes=59, seconds=30))
    assert refused.value.retry_after == 30
    assert agreement.remind(NOW + timedelta(hours=1)) == agreement.signers


def test_a_draft_refuses_what_the_request_gets_wrong() -> None:
    with pytest.raises(Invalid) as same:
        Agreement.draft(AgreementCreate.model_validate({
            "title": "T", "document_id": "doc_1", "signers": [
                {"name": "A", "email": "a@example.com"}, {"name": "B", "email": "A@example.com"}]}),
            "ws_1", DOC, SENDER, NOW)
    assert same.value.field == "signers"
    with pytest.raises(Invalid) as misplaced:
        _draft(fields=[{"signer_email": "s0@example.com", "type": "text", "page": 2, "x": 750,
                        "y": 10, "width": 100, "height": 20}])
    assert misplaced.value.field == "fields.0"
    with pytest.raises(Invalid) as stranger:
        _draft(fields=[{"signer_email": "x@example.com", "type": "text", "page": 1, "x": 1,
                        "y": 1, "width": 10, "height": 10}])
    assert stranger.value.field == "fields.0.signer_email"
    with pytest.raises(Invalid, match="in the future"):
        _draft(expires_at="2026-03-01T11:00:00Z")
    assert _draft(expires_in_days=3).expires_at == NOW + timedelta(days=3)
