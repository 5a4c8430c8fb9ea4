"""The trail's rules, through the handler and a fake unit of work: entries chain by hash,
signers only move forward, and the evidence is due only once the trail holds all it covers."""

import itertools

from agreement_events import AgreementStory
from fakes import FakeAgreement, FakeSigner, FakeStore, FakeUnitOfWork

from pactra_contracts.events import AgreementPurged, make_event
from pactra_receipts.domain import trail
from pactra_receipts.domain.canonical import jcs_sha256
from pactra_receipts.service_layer import handlers

WORKSPACE = "ws_unit"


def story() -> AgreementStory:
    return AgreementStory(workspace_id=WORKSPACE, document_id="doc_unit", document_sha256="ab" * 32, pages=2)


def record(uow: FakeUnitOfWork, events: list) -> None:
    for event in events:
        handlers.on_agreement_event(event, uow)


def test_entries_chain_each_onto_the_hash_of_the_one_before() -> None:
    uow, told = FakeUnitOfWork(), story()
    told.create_and_send()
    record(uow, told.events)
    entries = uow.trails.entries[told.agreement_id]
    assert [e["seq"] for e in entries] == list(range(len(entries)))
    assert entries[0]["prev"] == trail.GENESIS
    for before, entry in itertools.pairwise(entries):
        assert entry["prev"] == before["hash"]
    for entry in entries:
        assert entry["hash"] == jcs_sha256({k: v for k, v in entry.items() if k != "hash"})
    assert uow.trails.agreements[told.agreement_id].head == entries[-1]["hash"]


def test_a_changed_entry_no_longer_matches_its_hash() -> None:
    entry = trail.make_entry(0, "agreement.sent", "2026-01-01T00:00:00Z", {"kind": "system"}, {"a": 1},
                             trail.GENESIS)
    assert jcs_sha256({**{k: v for k, v in entry.items() if k != "hash"}, "data": {"a": 2}}) != entry["hash"]


def test_a_late_view_never_undoes_a_signature() -> None:
    evidence = FakeSigner("sgr_1", status="signed")
    trail.advance(evidence, "viewed")
    assert evidence.status == "signed"
    trail.advance(evidence, "declined")
    assert evidence.status == "declined"


def test_a_completed_agreement_is_due_once_every_signature_and_invitation_is_in() -> None:
    uow, told = FakeUnitOfWork(), story()
    told.create_and_send()
    told.sign(0)
    told.sign(1)
    told.complete()
    *before, ending = told.events
    # The ending first, the rest later (events arrive in any order).
    record(uow, [before[0], ending])
    assert told.agreement_id not in uow.jobs.jobs
    record(uow, before[1:])
    job = uow.jobs.jobs[told.agreement_id]
    assert job.correlation_id == told.agreement_id
    agreement = uow.trails.agreements[told.agreement_id]
    assert agreement.outcome == "completed"
    signers = uow.trails.signers(told.agreement_id)
    assert {s.status for s in signers.values()} == {"signed"}
    assert all(s.invited_at and s.signature for s in signers.values())


def test_a_decline_is_due_once_the_decliner_is_in_the_trail() -> None:
    uow, told = FakeUnitOfWork(), story()
    told.create_and_send()
    told.decline(1, "Not today")
    record(uow, told.events)
    assert uow.trails.agreements[told.agreement_id].outcome == "declined"
    assert uow.trails.agreements[told.agreement_id].outcome_reason == "Not today"
    assert told.agreement_id in uow.jobs.jobs


def test_an_agreement_never_sent_is_not_due() -> None:
    agreement = FakeAgreement("agr_1", WORKSPACE, created={"signers": []}, outcome="voided")
    assert not trail.ready_to_issue(agreement, sent=False, issued=False, signers={})
    assert trail.ready_to_issue(agreement, sent=True, issued=False, signers={})
    assert not trail.ready_to_issue(agreement, sent=True, issued=True, signers={})


def test_another_workspaces_event_is_not_recorded() -> None:
    uow, told = FakeUnitOfWork(), story()
    told.create_and_send()
    uow.trails.lock(told.agreement_id, "ws_other")
    record(uow, told.events)
    assert told.agreement_id not in uow.trails.entries


def test_a_purged_agreement_loses_its_evidence_only_in_its_own_workspace() -> None:
    uow, told, store = FakeUnitOfWork(), story(), FakeStore()
    told.create_and_send()
    record(uow, told.events)
    store.put(f"{told.agreement_id}/signed.pdf", [b"%PDF"])
    purge = AgreementPurged(agreement_id=told.agreement_id, document_id="doc_unit", reason="retention",
                            purge_document=False)
    elsewhere = make_event("agreement.purged", purge, producer="signing", workspace_id="ws_other")
    handlers.on_agreement_purged(elsewhere, uow, store)
    assert told.agreement_id in uow.trails.agreements
    purged = make_event("agreement.purged", purge, producer="signing", workspace_id=WORKSPACE)
    handlers.on_agreement_purged(purged, uow, store)
    assert told.agreement_id not in uow.trails.agreements
    assert store.objects == {}
