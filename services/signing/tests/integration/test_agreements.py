"""The agreement's state machine, its events and its tokens (service layer, real database)."""

import json
from datetime import timedelta

import pytest

from pactra_contracts.api import AgreementCreate, SignRequest
from pactra_contracts.events import ReceiptFailed, ReceiptIssued, SignerEmailUndelivered, make_event
from pactra_contracts.times import utcnow
from pactra_notify.adapters.links import open_link
from pactra_signing.adapters import read_model
from pactra_signing.domain import errors
from pactra_signing.domain.agreement import Agreement, DocumentInfo
from pactra_signing.entrypoints.presenters import agreement_json
from pactra_signing.service_layer import agreements, handlers, signer_actions

DOC = DocumentInfo(id="doc_1", sha256="ab" * 32, pages=3)


def _create(ctx, uow_factory, sender, order="parallel", count=2, workspace="ws_test"):
    cmd = AgreementCreate.model_validate({
        "title": "NDA", "document_id": "doc_1", "signing_order": order,
        "signers": [{"name": f"Signer {i}", "email": f"s{i}@example.com"} for i in range(count)],
        "fields": [{"signer_email": "s0@example.com", "type": "text", "page": 2, "x": 1, "y": 2,
                    "width": 50, "height": 10}],
    })
    return agreements.create(cmd, workspace, DOC, sender, ctx, uow_factory())


def _token(settings, outbox, signer_id):
    invite = next(e for e in reversed(outbox("signer.invited")) if e["data"]["signer_id"] == signer_id)
    link = open_link(settings.master_key, invite["data"]["link"]["sealed"], signer_id)
    return link.rsplit("/", 1)[1]


def _sign(token, ctx, uow_factory, fields=None):
    cmd = SignRequest.model_validate({"consent": True, "signature": {"type": "typed", "text": "X"},
                                      "fields": fields or {}})
    return signer_actions.sign(token, cmd, ctx, uow_factory(), "203.0.113.9", "pytest")


def test_sending_invites_everyone_in_parallel_and_keeps_no_token_in_clear(settings, ctx, uow_factory,
                                                                        sender, outbox):
    agreement = _create(ctx, uow_factory, sender)
    sent = agreements.send("ws_test", agreement.id, ctx, uow_factory())
    assert sent.status == "sent"
    invited = [e for e in outbox("signer.invited") if e["data"]["agreement_id"] == agreement.id]
    assert len(invited) == 2
    token = _token(settings, outbox, agreement.signers[0].id)
    assert len(token) == 43
    everything = str(outbox()) + str([(s.token_hash, s.token_sealed) for s in sent.signers])
    assert token not in everything


def test_sequential_signers_are_invited_one_after_another(settings, ctx, uow_factory, sender, outbox):
    agreement = _create(ctx, uow_factory, sender, order="sequential", count=3)
    agreements.send("ws_test", agreement.id, ctx, uow_factory())
    first, second, third = agreement.signers
    assert [e["data"]["signer_id"] for e in outbox("signer.invited")
            if e["data"]["agreement_id"] == agreement.id] == [first.id]
    _sign(_token(settings, outbox, first.id), ctx, uow_factory, {agreement.fields[0].id: "hello"})
    _sign(_token(settings, outbox, second.id), ctx, uow_factory)
    outcome = _sign(_token(settings, outbox, third.id), ctx, uow_factory)
    assert outcome.agreement_status == "completed"
    completed = [e for e in outbox("agreement.completed") if e["data"]["agreement_id"] == agreement.id]
    assert len(completed) == 1
    assert len(completed[0]["data"]["signatures"]) == 3
    signed = [e for e in outbox("signer.signed") if e["data"]["agreement_id"] == agreement.id]
    assert signed[0]["actor"] == {"kind": "signer", "id": first.id, "ip": "203.0.113.9",
                                  "user_agent": "pytest"}


def test_a_finished_signer_and_an_ended_agreement_are_gone(settings, ctx, uow_factory, sender, outbox):
    agreement = _create(ctx, uow_factory, sender)
    agreements.send("ws_test", agreement.id, ctx, uow_factory())
    token = _token(settings, outbox, agreement.signers[1].id)
    _sign(token, ctx, uow_factory)
    with pytest.raises(errors.Gone):
        _sign(token, ctx, uow_factory)
    agreements.void("ws_test", agreement.id, "changed my mind", ctx, uow_factory())
    with pytest.raises(errors.Gone):
        signer_actions.decline(_token(settings, outbox, agreement.signers[0].id), "no", ctx,
                               uow_factory(), None, None)


def test_required_fields_and_consent(settings, ctx, uow_factory, sender, outbox):
    agreement = _create(ctx, uow_factory, sender)
    agreements.send("ws_test", agreement.id, ctx, uow_factory())
    token = _token(settings, outbox, agreement.signers[0].id)
    with pytest.raises(errors.Invalid, match="required"):
        _sign(token, ctx, uow_factory)
    with pytest.raises(errors.Invalid):
        _sign(token, ctx, uow_factory, {"fld_not_mine": "x", agreement.fields[0].id: "y"})
    cmd = SignRequest.model_validate({"consent": False, "signature": {"type": "typed", "text": "X"},
                                      "fields": {agreement.fields[0].id: "y"}})
    with pytest.raises(errors.Invalid, match="Consent"):
        signer_actions.sign(token, cmd, ctx, uow_factory(), None, None)


def test_other_workspaces_see_nothing(ctx, uow_factory, sender):
    agreement = _create(ctx, uow_factory, sender)
    with pytest.raises(errors.NotFound):
        agreements.send("ws_other", agreement.id, ctx, uow_factory())


def test_expiry_job_ends_overdue_agreements(settings, ctx, uow_factory, sender, outbox):
    agreement = _create(ctx, uow_factory, sender)
    agreements.send("ws_test", agreement.id, ctx, uow_factory())
    with uow_factory() as uow:
        uow.session.get(Agreement, agreement.id).expires_at = utcnow() - timedelta(seconds=1)
        uow.commit()
    assert agreements.expire_due(ctx, uow_factory()) >= 1
    expired = [e for e in outbox("agreement.expired") if e["data"]["agreement_id"] == agreement.id]
    assert len(expired) == 1
    with uow_factory() as uow:
        stored = uow.session.get(Agreement, agreement.id)
        assert (stored.status, stored.evidence_status) == ("expired", "issuing")


SIZED = DocumentInfo(id="doc_2", sha256="cd" * 32, pages=2,
                     page_sizes=((595.28, 841.89), (841.89, 595.28)))


def _with_field(**field) -> AgreementCreate:
    placed = {"signer_email": "a@example.com", "type": "date", "page": 1, "x": 72, "y": 600,
              "width": 100, "height": 20, **field}
    return AgreementCreate.model_validate({
        "title": "Sized", "document_id": "doc_2", "signers": [{"name": "A", "email": "a@example.com"}],
        "fields": [{**placed, "page": 1, "x": 10, "y": 10}, placed]})


@pytest.mark.parametrize(("field", "where"), [
    ({"x": 500}, "fields.1"),                       # 500 + 100 > 595.28
    ({"y": 830}, "fields.1"),                       # 830 + 20 > 841.89
    ({"page": 2, "y": 580}, "fields.1"),            # page 2 is landscape: 600 > 595.28
    ({"page": 3}, "fields.1.page"),                 # the document has 2 pages
])
def test_a_field_must_lie_within_its_page(ctx, uow_factory, sender, field, where):
    with pytest.raises(errors.Invalid) as raised:
        agreements.create(_with_field(**field), "ws_test", SIZED, sender, ctx, uow_factory())
    assert raised.value.field == where


def test_a_field_may_reach_the_edges_of_its_page(ctx, uow_factory, sender):
    edge = _with_field(page=2, x=841.89 - 100, y=595.28 - 20)
    agreement = agreements.create(edge, "ws_test", SIZED, sender, ctx, uow_factory())
    assert agreement.document_page_sizes == [[595.28, 841.89], [841.89, 595.28]]
    assert [f.page for f in agreement.fields] == [1, 2]


def test_an_agreement_without_fields_can_be_shown(ctx, uow_factory, sender):
    cmd = AgreementCreate.model_validate({
        "title": "Plain", "document_id": "doc_1", "signers": [{"name": "A", "email": "a@example.com"}]})
    agreement = agreements.create(cmd, "ws_test", DOC, sender, ctx, uow_factory())
    shown = agreement_json(agreement)
    assert shown["fields"] == [] and len(shown["signers"]) == 1


def test_the_read_model_shows_what_the_presenter_shows(settings, ctx, uow_factory, sender, outbox):
    """GET /v1/agreements/{id} is built by PostgreSQL (read_model); every other answer by
    presenters.agreement_json. Through a life cycle the two must not drift apart."""
    cmd = AgreementCreate.model_validate({
        "title": "Lease \u00e9 \"quoted\"", "document_id": "doc_1", "signing_order": "sequential",
        "message": None, "metadata": {"crm_id": "42", "note": "line\nbreak"},
        "signers": [{"name": "Zoë", "email": "z@example.com"}, {"name": "Al", "email": "a@example.com"}],
        "fields": [{"signer_email": "z@example.com", "type": "text", "page": 1, "x": 10.25, "y": 2,
                    "width": 50, "height": 10},
                   {"signer_email": "z@example.com", "type": "checkbox", "page": 1, "x": 1, "y": 2,
                    "width": 5, "height": 5, "required": False},
                   {"signer_email": "a@example.com", "type": "signature", "page": 2, "x": 1, "y": 2,
                    "width": 50, "height": 10}],
    })
    agreement = agreements.create(cmd, "ws_test", DOC, sender, ctx, uow_factory())

    def both() -> tuple[dict, dict]:
        with uow_factory() as uow:
            shown = json.loads(read_model.agreement_json_text(uow.session, "ws_test", agreement.id))
            return shown, agreement_json(uow.agreements.get("ws_test", agreement.id))

    def same() -> dict:
        shown, presented = both()
        assert shown == presented
        return shown

    assert same()["status"] == "draft"
    # A time with microseconds: both truncate to milliseconds.
    expires_at = (utcnow() + timedelta(days=2)).replace(microsecond=999_999)
    with uow_factory() as uow:
        stored = uow.session.get(Agreement, agreement.id)
        stored.expires_at = expires_at
        stored.created_at -= timedelta(microseconds=1)
        uow.commit()
    assert same()["expires_at"] == expires_at.strftime("%Y-%m-%dT%H:%M:%S.999Z")
    agreements.send("ws_test", agreement.id, ctx, uow_factory())
    first, second = agreement.signers
    _sign(_token(settings, outbox, first.id), ctx, uow_factory,
          {agreement.fields[0].id: "hello", agreement.fields[1].id: True})
    signer_actions.view(_token(settings, outbox, second.id), ctx, uow_factory(), None, None)
    shown = same()
    assert [f["value"] for f in shown["fields"]] == ["hello", True, None]
    assert shown["signers"][0]["signed_at"] and shown["signers"][1]["viewed_at"]
    signer_actions.decline(_token(settings, outbox, second.id), "not today", ctx, uow_factory(),
                           None, None)
    assert same()["signers"][1]["declined_at"]

    def receipts_event(handler, event_type: str, data) -> None:
        with uow_factory() as uow:
            handler(make_event(event_type, data, producer="receipts", workspace_id="ws_test"), uow)
            uow.commit()

    receipts_event(handlers.on_receipt_failed, "receipt.failed",
                   ReceiptFailed(agreement_id=agreement.id, reason="S3 down"))
    assert same()["evidence_reason"] == "S3 down"
    receipts_event(handlers.on_receipt_issued, "receipt.issued", ReceiptIssued(
        agreement_id=agreement.id, receipt_id="rcpt_1", title="Lease", outcome="declined",
        sealed_sha256=None, receipt_sha256="cd" * 32, recipients=[]))
    shown = same()
    assert (shown["status"], shown["evidence_status"]) == ("declined", "issued")
    assert shown["receipt_id"] == "rcpt_1"
    assert [s["delivery_status"] for s in shown["signers"]] == [None, None]
    with uow_factory() as uow:
        handlers.on_signer_email_undelivered(make_event("signer.bounced", SignerEmailUndelivered(
            agreement_id=agreement.id, signer_id=second.id, delivery_status="bounced",
            email_kind="invitation", reason="Permanent/General"),
            producer="notify", workspace_id="ws_test"), uow)
        uow.commit()
    assert [s["delivery_status"] for s in same()["signers"]] == [None, "bounced"]

    with uow_factory() as uow:
        assert read_model.agreement_json_text(uow.session, "ws_other", agreement.id) is None
        assert read_model.agreement_json_text(uow.session, "ws_test", "agr_unknown") is None
