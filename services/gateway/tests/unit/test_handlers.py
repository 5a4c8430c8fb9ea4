"""The gateway's handlers against fakes: usage counted once per source and never for test
mode; a deletion's saga moved on by each service's report, completed by the last, and
restarted for stragglers by its clock."""

from datetime import UTC, datetime, timedelta

from pactra_contracts.events import UsageRecorded, WorkspacePurged, make_event
from pactra_contracts.services import SERVICES
from pactra_gateway.adapters.models import WorkspaceDeletion
from pactra_gateway.domain import deletions as rules
from pactra_gateway.service_layer import deletions
from pactra_gateway.service_layer.usage import on_usage_recorded

from .fakes import FakeUnitOfWork

WHEN = datetime(2026, 3, 14, 9, 26, tzinfo=UTC)


def usage(quantity: int = 1, **fields: object):
    return make_event("usage.recorded",
                      UsageRecorded(workspace_id="ws_1", metric="emails_sent", quantity=quantity,
                                    **fields),
                      producer="notify", workspace_id="ws_1", occurred_at=WHEN)


def test_usage_is_counted_under_its_source_once():
    uow = FakeUnitOfWork()
    event = usage(3, source_event_id="evt_source", occurred_at=WHEN - timedelta(minutes=5))
    on_usage_recorded(event, uow)
    on_usage_recorded(event, uow)  # redelivered: counts nothing more
    assert [(c.metric, c.quantity, c.source_id, c.occurred_at) for c in uow.usage.counted] == [
        ("emails_sent", 3, "evt_source", WHEN - timedelta(minutes=5))]


def test_usage_without_a_source_is_counted_under_the_event_and_its_time():
    uow = FakeUnitOfWork()
    event = usage()
    on_usage_recorded(event, uow)
    (counted,) = uow.usage.counted
    assert counted.source_id == event.id and counted.occurred_at == event.occurred_at


def test_test_mode_usage_is_never_counted():
    uow = FakeUnitOfWork()
    on_usage_recorded(usage(5, livemode=False), uow)
    assert uow.usage.counted == []


def running_deletion(**fields: object) -> WorkspaceDeletion:
    values: dict[str, object] = {
        "id": "del_1", "workspace_id": "ws_1", "workspace_sha256": "0" * 64, "token_hash": "1" * 64,
        "status": rules.RUNNING, "requested_at": WHEN, "confirm_by": WHEN + timedelta(hours=24),
        "confirmed_at": WHEN, "purge_at": WHEN, "published_at": WHEN,
        "services": dict.fromkeys(SERVICES, rules.PENDING), "counts": {},
        "revoked_key_ids": ["key_1"]}
    return WorkspaceDeletion(**{**values, **fields})


def purged(service: str, deletion_id: str = "del_1"):
    return make_event("workspace.purged",
                      WorkspacePurged(workspace_id="ws_1", deletion_id=deletion_id, service=service,
                                      counts={"rows": 2}),
                      producer=service, workspace_id="ws_1")


def test_each_report_moves_the_saga_on_and_the_last_completes_it():
    deletion = running_deletion()
    uow = FakeUnitOfWork(deletion)
    *first, last = SERVICES
    for service in first:
        deletions.on_workspace_purged(purged(service), uow)
        assert deletion.status == rules.RUNNING and deletion.workspace_id == "ws_1"
    assert rules.stragglers(deletion.services) == [last]
    deletions.on_workspace_purged(purged(last), uow)
    assert deletion.status == rules.COMPLETED and deletion.completed_at is not None
    # Completed, it forgets the workspace (only its hash stays) and the keys it revoked.
    assert deletion.workspace_id is None and deletion.revoked_key_ids == []
    assert deletion.counts == {service: {"rows": 2} for service in SERVICES}
    assert uow.deletions.locked == ["del_1"] * len(SERVICES)


def test_a_report_for_no_deletion_or_a_completed_one_changes_nothing():
    done = running_deletion(status=rules.COMPLETED, workspace_id=None)
    uow = FakeUnitOfWork(done)
    deletions.on_workspace_purged(purged(SERVICES[0]), uow)
    deletions.on_workspace_purged(purged(SERVICES[0], "del_unknown"), uow)
    assert done.services == dict.fromkeys(SERVICES, rules.PENDING) and done.counts == {}


def test_the_clock_starts_due_purges_and_asks_stragglers_again():
    now = datetime.now(UTC)
    due = running_deletion(id="del_due", status=rules.SCHEDULED, purge_at=now - timedelta(seconds=1),
                           published_at=None)
    waiting = running_deletion(id="del_waiting", status=rules.SCHEDULED, purge_at=now + timedelta(hours=1),
                               published_at=None)
    straggling = running_deletion(id="del_stale", published_at=now - timedelta(minutes=10))
    recent = running_deletion(id="del_recent", published_at=now)
    uow = FakeUnitOfWork(due, waiting, straggling, recent)
    assert deletions.advance(uow, timedelta(minutes=5)) == 2
    assert uow.committed
    assert {e.payload().deletion_id for e in uow.published} == {"del_due", "del_stale"}
    assert {e.type for e in uow.published} == {"workspace.deletion_requested"}
    assert due.status == rules.RUNNING and waiting.status == rules.SCHEDULED
    assert straggling.published_at is not None and straggling.published_at >= now
