"""The envelope and catalogue: what validates, what is malformed."""

import json

import pytest

from pactra_contracts.events import (
    CATALOGUE,
    EVENT_TYPES,
    MalformedEvent,
    Person,
    WorkspaceCreated,
    make_event,
    parse_event,
)
from pactra_contracts.times import format_time, utcnow

CATALOGUE_OF_EVENTS_MD = {
    "workspace.created", "workspace.updated", "document.uploaded", "document.deleted",
    "agreement.created", "agreement.sent", "signer.invited", "signer.reminded", "signer.viewed",
    "signer.signed", "signer.declined", "agreement.completed", "agreement.declined",
    "agreement.voided", "agreement.expired", "receipt.issued", "receipt.failed", "analysis.completed",
    "notification.sent", "usage.recorded",
    # Notify's report of an email to a signer that came back (issue 14, item 5: bounces).
    "signer.bounced", "signer.complained",
    # The account's emails and corrections (api.md, "Account").
    "account.email_verification_requested", "account.recovery_requested", "account.updated",
    # Exports (api.md, "Exports"): the request and each service's staged part.
    "export.requested", "export.part_ready",
    # Deletion and retention (api.md): the saga, its confirmation email, and an agreement
    # purged by retention or DELETE /v1/agreements/{id}.
    "workspace.deletion_requested", "workspace.purged", "account.deletion_confirmation_requested",
    "agreement.purged",
}


def _created():
    return make_event(
        "workspace.created",
        WorkspaceCreated(workspace_id="ws_1", name="Acme", plan="free",
                         owner=Person(name="Ann", email="ann@example.com")),
        producer="gateway", workspace_id="ws_1", correlation_id="req_1",
    )


def test_every_type_of_the_catalogue_has_a_model():
    assert set(EVENT_TYPES) == CATALOGUE_OF_EVENTS_MD
    assert all(version == 1 for _, version in CATALOGUE)


def test_an_event_round_trips_through_its_json():
    event = _created()
    parsed = parse_event(event.to_json())
    assert parsed.to_json() == event.to_json()  # times travel at millisecond precision
    assert parsed.id.startswith("evt_")
    body = json.loads(event.to_json())
    assert body["occurred_at"].endswith("Z") and len(body["occurred_at"]) == 24
    assert body["actor"] == {"kind": "system", "id": "system", "ip": None, "user_agent": None}


@pytest.mark.parametrize("mutate", [
    lambda b: b.pop("producer"),
    lambda b: b.update(type="workspace.exploded"),
    lambda b: b.update(version=2),
    lambda b: b["data"].pop("owner"),
    lambda b: b["data"].update(surprise=True),
    lambda b: b.update(id="not-an-event-id"),
])
def test_malformed_messages_are_recognised(mutate):
    body = json.loads(_created().to_json())
    mutate(body)
    with pytest.raises(MalformedEvent):
        parse_event(json.dumps(body).encode())


def test_not_json_at_all_is_malformed():
    with pytest.raises(MalformedEvent):
        parse_event(b"\x00garbage")


def test_make_event_refuses_data_of_another_type():
    with pytest.raises(TypeError):
        make_event("workspace.updated", Person(name="a", email="b"), producer="x", workspace_id=None)


def test_times_have_milliseconds_and_z():
    assert format_time(utcnow()).endswith("Z")


def test_every_event_type_has_a_producer_and_every_producer_type_exists() -> None:
    """The broker grants each service's user exactly types_produced_by(service): a type nobody
    produces could never be published, a listed type outside the catalogue is a typo."""
    from pactra_contracts.events import ANY_PRODUCER, PRODUCED_BY, types_produced_by

    granted = set(ANY_PRODUCER).union(*PRODUCED_BY.values())
    assert granted == set(EVENT_TYPES)
    assert "receipt.issued" in types_produced_by("receipts")
    assert "receipt.issued" not in types_produced_by("notify")
    assert types_produced_by("notify") == ("notification.sent", "signer.bounced",
                                           "signer.complained", *ANY_PRODUCER)
    assert "usage.recorded" in ANY_PRODUCER
