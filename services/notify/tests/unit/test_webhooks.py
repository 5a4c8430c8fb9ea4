"""Webhook rules and use cases on fakes: the endpoint limit, event filters, rotation, replay,
and what each attempt's answer means (retry schedule, giving up, disabling)."""

from datetime import UTC, datetime, timedelta

import pytest

from pactra_contracts.events import Event, SignerEmailUndelivered
from pactra_notify.domain.errors import DeliveryInFlight, EndpointLimitReached, NotFound
from pactra_notify.domain.webhooks import GONE, RetrySchedule, normalized_events, public_data
from pactra_notify.service_layer import webhooks

from .fakes import FakePeers, FakeSealer, FakeUnitOfWork

WORKSPACE = "ws_1"
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SCHEDULE = RetrySchedule([5, 300, 1800], disable_after=timedelta(days=5))


def new_endpoint(uow: FakeUnitOfWork, events: list[str], *, max_endpoints: int = 20,
                 workspace_id: str = WORKSPACE) -> str:
    endpoint, secret = webhooks.create_endpoint(
        uow, FakeSealer(), workspace_id=workspace_id, url="https://hooks.example/in",
        description=None, events=events, max_endpoints=max_endpoints)
    assert secret.startswith("whsec_")
    assert endpoint.secret_sealed == f"{workspace_id}/{endpoint.id}/{secret}".encode()
    return endpoint.id


def test_a_workspace_holds_at_most_its_limit_of_endpoints() -> None:
    uow = FakeUnitOfWork()
    for _ in range(3):
        new_endpoint(uow, ["*"], max_endpoints=3)
    with pytest.raises(EndpointLimitReached, match="at most 3 webhook endpoints"):
        new_endpoint(uow, ["*"], max_endpoints=3)
    new_endpoint(uow, ["*"], max_endpoints=3, workspace_id="ws_other")  # another workspace's count


def test_an_event_type_filter_picks_the_endpoints_that_get_a_delivery() -> None:
    uow, peers = FakeUnitOfWork(), FakePeers()
    everything = new_endpoint(uow, ["*", "document.uploaded"])
    uploads = new_endpoint(uow, ["document.uploaded", "document.uploaded"])
    new_endpoint(uow, ["receipt.issued"])
    assert uow.endpoints.rows[everything].events == ["*"]
    assert uow.endpoints.rows[uploads].events == ["document.uploaded"]
    event = make_event_of("document.uploaded", {"document_id": "doc_1", "filename": "a.pdf",
                                                "size": 10, "sha256": "e" * 64, "pages": 1})
    webhooks.on_webhook_event(event, uow, peers)
    webhooks.on_webhook_event(event, uow, peers)  # the same event again: no second delivery
    assert sorted(q.delivery.endpoint_id for q in uow.deliveries.rows.values()) == sorted(
        [everything, uploads])
    assert peers.agreement_requests == 0


def test_a_disabled_endpoint_gets_nothing_and_nobody_listening_fetches_nothing() -> None:
    uow, peers = FakeUnitOfWork(), FakePeers()
    endpoint_id = new_endpoint(uow, ["agreement.sent"])
    webhooks.update_endpoint(uow, workspace_id=WORKSPACE, endpoint_id=endpoint_id, enabled=False)
    webhooks.on_webhook_event(make_event_of("agreement.sent", {"agreement_id": "agr_1"}), uow, peers)
    assert uow.deliveries.rows == {} and peers.agreement_requests == 0


def make_event_of(event_type: str, data: dict) -> Event:
    """A catalogue event as the bus hands it over (its data is not checked here)."""
    return Event(type=event_type, producer="signing", workspace_id=WORKSPACE, data=data)


def test_the_body_is_the_public_object_with_its_sequence() -> None:
    agreement = {"id": "agr_1", "status": "sent", "signers": [{"id": "sgr_1", "status": "pending"}]}
    calls: list[str] = []

    def agreement_of(agreement_id: str) -> dict:
        calls.append(agreement_id)
        return agreement

    assert public_data("agreement.sent", {"agreement_id": "agr_1", "agreement_version": 3}, NOW,
                       agreement_of) == {**agreement, "sequence": 3}
    bounced = SignerEmailUndelivered(agreement_id="agr_1", signer_id="sgr_1", delivery_status="bounced",
                                     email_kind="invitation", reason=None).model_dump()
    assert public_data("signer.bounced", bounced, NOW, agreement_of) == {
        "id": "sgr_1", "status": "pending", "delivery_status": "bounced",
        "email_kind": "invitation", "agreement_id": "agr_1", "sequence": None}
    # A deleted agreement: the event's own status stands in.
    assert public_data("agreement.voided", {"agreement_id": "agr_2"}, NOW, lambda _: None) == {
        "id": "agr_2", "status": "voided", "sequence": None}
    assert calls == ["agr_1", "agr_1"]


def test_events_are_kept_once_in_order_and_star_stands_alone() -> None:
    assert normalized_events(["b", "a", "b"]) == ["b", "a"]
    assert normalized_events(["a", "*"]) == ["*"]


def test_enabling_again_is_a_fresh_start_of_the_failure_clock() -> None:
    uow = FakeUnitOfWork()
    endpoint_id = new_endpoint(uow, ["*"])
    stored = uow.endpoints.rows[endpoint_id]
    stored.enabled, stored.disabled_reason, stored.failing_since = False, GONE, NOW
    endpoint = webhooks.update_endpoint(uow, workspace_id=WORKSPACE, endpoint_id=endpoint_id,
                                        enabled=True, description="Orders")
    assert (endpoint.enabled, endpoint.disabled_reason, endpoint.failing_since) == (True, None, None)
    assert uow.endpoints.rows[endpoint_id].description == "Orders"


def test_rotation_keeps_the_previous_secret_signing_for_the_overlap() -> None:
    uow = FakeUnitOfWork()
    endpoint_id = new_endpoint(uow, ["*"])
    first = uow.endpoints.rows[endpoint_id].secret_sealed
    secret, expires = webhooks.rotate_secret(uow, FakeSealer(), workspace_id=WORKSPACE,
                                             endpoint_id=endpoint_id, overlap=timedelta(hours=24))
    endpoint = uow.endpoints.rows[endpoint_id]
    assert endpoint.signing_secrets_sealed(expires - timedelta(seconds=1)) == [
        f"{WORKSPACE}/{endpoint_id}/{secret}".encode(), first]
    assert endpoint.signing_secrets_sealed(expires) == [endpoint.secret_sealed]


def test_another_workspaces_endpoint_is_not_found() -> None:
    uow = FakeUnitOfWork()
    endpoint_id = new_endpoint(uow, ["*"], workspace_id="ws_other")
    with pytest.raises(NotFound):
        webhooks.delete_endpoint(uow, workspace_id=WORKSPACE, endpoint_id=endpoint_id)
    with pytest.raises(NotFound):
        webhooks.send_test(uow, workspace_id=WORKSPACE, endpoint_id=endpoint_id)
    assert endpoint_id in uow.endpoints.rows


def test_a_replay_starts_a_new_run_unless_an_attempt_is_under_way() -> None:
    uow = FakeUnitOfWork()
    endpoint_id = new_endpoint(uow, ["*"])
    delivery_id, _ = webhooks.send_test(uow, workspace_id=WORKSPACE, endpoint_id=endpoint_id)
    stored = uow.deliveries.rows[delivery_id].delivery
    stored.status, stored.tries, stored.lease_until = "gave_up", 10, datetime.now(UTC) + timedelta(minutes=1)
    with pytest.raises(DeliveryInFlight):
        webhooks.replay_delivery(uow, workspace_id=WORKSPACE, endpoint_id=endpoint_id,
                                 delivery_id=delivery_id)
    stored.lease_until = None
    replayed = webhooks.replay_delivery(uow, workspace_id=WORKSPACE, endpoint_id=endpoint_id,
                                        delivery_id=delivery_id)
    assert (replayed.status, replayed.tries, replayed.lease_until) == ("pending", 0, None)
    with pytest.raises(NotFound):
        webhooks.replay_delivery(uow, workspace_id=WORKSPACE, endpoint_id=endpoint_id,
                                 delivery_id="whd_none")


# --- the retry schedule ---------------------------------------------------------------------


def judge(tries: int, status_code: int | None, *, retry_after: float | None = None,
          failing_since: datetime | None = None, enabled: bool = True):
    return SCHEDULE.judge(tries=tries, status_code=status_code, retry_after=retry_after, now=NOW,
                          endpoint_enabled=enabled, failing_since=failing_since)


@pytest.mark.parametrize("tries", [1, 2, 3])
def test_a_failure_is_retried_after_its_step_of_the_schedule(tries: int) -> None:
    verdict = judge(tries, 500)
    assert verdict.status == "failed"
    assert verdict.next_attempt_at == NOW + timedelta(seconds=[5, 300, 1800][tries - 1])
    assert verdict.failing_since == NOW and verdict.disable_reason is None


def test_after_the_last_retry_it_gives_up() -> None:
    verdict = judge(4, None)
    assert (verdict.status, verdict.next_attempt_at) == ("gave_up", None)
    assert SCHEDULE.exhausted_before(4) and not SCHEDULE.exhausted_before(3)


def test_a_receivers_retry_after_wins_over_the_schedule() -> None:
    assert judge(1, 429, retry_after=120).next_attempt_at == NOW + timedelta(seconds=120)


def test_a_success_delivers_and_stops_the_failure_clock() -> None:
    verdict = judge(2, 204, failing_since=NOW - timedelta(days=4))
    assert (verdict.status, verdict.failing_since, verdict.delivered) == ("delivered", None, True)


@pytest.mark.parametrize("status_code", [301, 400, 503, None])
def test_anything_but_2xx_is_a_failure(status_code: int | None) -> None:
    assert judge(1, status_code).status == "failed"


def test_410_gives_up_and_disables_at_once() -> None:
    verdict = judge(1, 410)
    assert (verdict.status, verdict.disable_reason) == ("gave_up", GONE)
    assert judge(1, 410, enabled=False).disable_reason is None


def test_five_days_of_failures_disable_the_endpoint() -> None:
    almost = judge(2, 500, failing_since=NOW - timedelta(days=5) + timedelta(seconds=1))
    assert almost.disable_reason is None and almost.status == "failed"
    verdict = judge(2, 500, failing_since=NOW - timedelta(days=5, hours=12))
    assert verdict.disable_reason == "every delivery failed for 5.5 days"
    assert verdict.failing_since == NOW - timedelta(days=5, hours=12)
    assert judge(2, 500, failing_since=NOW - timedelta(days=9), enabled=False).disable_reason is None
