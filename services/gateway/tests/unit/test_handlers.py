"""The gateway's handlers against fakes: usage counted once per source and never for test
mode; a deletion's saga moved on by each service's report, completed by the last, and
restarted for stragglers by its clock; an export's parts counted until the last wakes the
assembler."""

from datetime import UTC, datetime, timedelta

from pactra_contracts.events import ExportPartReady, UsageRecorded, WorkspacePurged, make_event
from pactra_contracts.services import SERVICES
from pactra_gateway.adapters.models import Export, WorkspaceDeletion
from pactra_gateway.domain import deletions as rules
from pactra_gateway.domain import exports as export_rules
from pactra_gateway.service_layer import deletions, exports
from pactra_gateway.service_layer.usage import on_usage_recorded
from pactra_platform.exports import PARTS

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


def part(service: str, workspace_id: str = "ws_1"):
    return make_event("export.part_ready",
                      ExportPartReady(export_id="exp_1", service=service, object=f"staging/{service}",
                                      files=2, bytes=100),
                      producer=service, workspace_id=workspace_id)


def pending_export(**fields: object) -> Export:
    values: dict[str, object] = {"id": "exp_1", "workspace_id": "ws_1", "status": export_rules.PENDING,
                                 "parts": {}, "parts_done": 0, "parts_total": len(PARTS),
                                 "created_at": WHEN, "expires_at": WHEN + export_rules.KEPT}
    return Export(**{**values, **fields})


def test_parts_are_counted_and_the_last_wakes_the_assembler():
    export = pending_export()
    uow = FakeUnitOfWork(export)
    *first, last = PARTS
    for service in first:
        exports.on_part_ready(part(service), uow)
    exports.on_part_ready(part(first[0]), uow)  # redelivered: still one part of that service
    assert export.status == export_rules.RUNNING and export.parts_done == len(first)
    assert uow.woken == []
    exports.on_part_ready(part(last), uow)
    assert export.parts_done == len(PARTS) and uow.woken == [exports.CHANNEL]
    assert export.parts[last] == {"object": f"staging/{last}", "files": 2, "bytes": 100}


def test_a_part_for_another_workspace_or_a_finished_export_changes_nothing():
    ready = pending_export(status=export_rules.READY)
    uow = FakeUnitOfWork(ready)
    exports.on_part_ready(part(PARTS[0]), uow)
    assert ready.parts == {} and ready.status == export_rules.READY
    collecting = pending_export()
    uow = FakeUnitOfWork(collecting)
    exports.on_part_ready(part(PARTS[0], workspace_id="ws_other"), uow)
    assert collecting.parts == {} and collecting.parts_done == 0
