"""Retention (issue 15 item 4): a workspace's ``retention_days`` purges the agreements that
ended more than that many days ago, daily, each once whatever the number of replicas; and
``DELETE /v1/agreements/{id}`` purges an ended agreement at once. Either way the receipt
becomes a tombstone that the verify endpoint still recognises.

The test clock is the database: ``ended_at`` is moved into the past, and the job is the
signing worker's own function (``retention.purge_due``), run here as two replicas would."""

import threading
from datetime import timedelta

import psycopg
import requests

from pactra_contracts.events import SYSTEM
from pactra_contracts.times import utcnow
from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, signup, wait_until
from pactra_signing.bootstrap import bootstrap as signing_bootstrap
from pactra_signing.service_layer import retention

from . import flows
from .test_deletion import completed_agreement

DAYS = 10


def _connect(stack: Stack, service: str) -> psycopg.Connection:
    url = stack.settings.database_url_of(service).replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(url, autocommit=True)


def voided_agreement(gateway: str, account: dict) -> tuple[dict, dict, dict]:
    """(document, agreement, its receipt) of an agreement sent then voided."""
    document = flows.upload(gateway, account)
    agreement = flows.create(gateway, account, document["id"], flows.people(1))
    flows.act(gateway, account, agreement["id"], "send")
    flows.act(gateway, account, agreement["id"], "void", {"reason": "Superseded."})
    flows.wait_for_evidence(gateway, account, agreement["id"])
    receipt = requests.get(f"{gateway}/v1/agreements/{agreement['id']}/receipt", headers=auth(account),
                           timeout=10)
    assert receipt.status_code == 200, receipt.text
    return document, agreement, receipt.json()


def status_of(gateway: str, account: dict, path: str) -> int:
    return requests.get(gateway + path, headers=auth(account), timeout=10).status_code


def verified(gateway: str, receipt: dict) -> dict:
    response = requests.post(gateway + "/v1/receipts/verify", json=receipt, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for_tombstone(gateway: str, receipt: dict) -> dict:
    result = wait_until(lambda: (v := verified(gateway, receipt)).get("retained") == "tombstone" and v,
                        timeout=30, interval=0.3, message="the receipt is kept as a tombstone",
                        describe=lambda: verified(gateway, receipt))
    assert result["valid"] is True
    return result


def end_in_the_past(stack: Stack, agreement_id: str, ago: timedelta) -> None:
    with _connect(stack, "signing") as conn:
        conn.execute("UPDATE agreements SET ended_at = %s WHERE id = %s", (utcnow() - ago, agreement_id))


def purged_events(stack: Stack, agreement_id: str) -> int:
    """``agreement.purged`` events signing wrote for the agreement (kept in its outbox)."""
    with _connect(stack, "signing") as conn:
        return conn.execute(
            "SELECT count(*) FROM outbox WHERE body->>'type' = 'agreement.purged'"
            " AND body->'data'->>'agreement_id' = %s", (agreement_id,)).fetchone()[0]


def run_replicas(stack: Stack, count: int = 2) -> list[list[str]]:
    """``count`` replicas of the daily job at once, each purging one agreement per
    transaction so that they interleave: the ids each purged."""
    signing = signing_bootstrap(stack.settings)
    ctx = signing.context(None, SYSTEM)
    start = threading.Barrier(count)
    results: list[list[str]] = [[] for _ in range(count)]

    def replica(index: int) -> None:
        start.wait()
        while purged := retention.purge_due(ctx, signing.uow(), limit=1):
            results[index].extend(purged)

    threads = [threading.Thread(target=replica, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_retention_purges_at_the_boundary_and_not_a_day_early(stack: Stack, gateway: str):
    account = signup(gateway, "Frances Allen")
    too_low = requests.patch(gateway + "/v1/workspace", json={"retention_days": 0}, headers=auth(account),
                             timeout=10)
    assert too_low.status_code == 422, too_low.text

    old_doc, old, old_receipt = voided_agreement(gateway, account)
    older_doc, older, older_receipt = voided_agreement(gateway, account)
    early_doc, early, _ = voided_agreement(gateway, account)
    edge_doc, edge, edge_receipt = voided_agreement(gateway, account)
    end_in_the_past(stack, old["id"], timedelta(days=DAYS, minutes=1))
    end_in_the_past(stack, older["id"], timedelta(days=DAYS + 30))
    end_in_the_past(stack, early["id"], timedelta(days=DAYS - 1))  # a day early
    end_in_the_past(stack, edge["id"], timedelta(days=DAYS, seconds=-60))  # a minute early

    # Without retention_days nothing is ever purged.
    assert [ids for ids in run_replicas(stack) if old["id"] in ids] == []
    patched = requests.patch(gateway + "/v1/workspace", json={"retention_days": DAYS}, headers=auth(account),
                             timeout=10)
    assert patched.status_code == 200 and patched.json()["retention_days"] == DAYS, patched.text
    with _connect(stack, "signing") as conn:
        policy = "SELECT retention_days FROM retention_policies WHERE workspace_id = %s"
        wait_until(lambda: conn.execute(policy, (account["workspace"]["id"],)).fetchone() == (DAYS,),
                   timeout=30, message="signing learns retention_days")

    results = run_replicas(stack)
    mine = {old["id"], older["id"]}
    watched = mine | {early["id"], edge["id"]}
    purged = [agreement_id for ids in results for agreement_id in ids if agreement_id in watched]
    assert sorted(purged) == sorted(mine)  # each once, by one replica or the other
    assert all(purged_events(stack, agreement_id) == 1 for agreement_id in mine)

    for agreement, document, receipt in ((old, old_doc, old_receipt), (older, older_doc, older_receipt)):
        assert status_of(gateway, account, f"/v1/agreements/{agreement['id']}") == 404
        wait_for_tombstone(gateway, receipt)
        wait_until(lambda d=document: status_of(gateway, account, f"/v1/documents/{d['id']}") == 404,
                   timeout=30, message="the purged agreement's document is deleted")
        assert status_of(gateway, account, f"/v1/agreements/{agreement['id']}/receipt") == 404
    for agreement, document in ((early, early_doc), (edge, edge_doc)):
        assert flows.get(gateway, account, agreement["id"])["status"] == "voided"
        assert status_of(gateway, account, f"/v1/documents/{document['id']}") == 200
    assert verified(gateway, edge_receipt).get("retained") != "tombstone"

    # Running again purges nothing more; once the edge agreement passes the boundary, it goes.
    assert not any(edge["id"] in ids or early["id"] in ids for ids in run_replicas(stack))
    end_in_the_past(stack, edge["id"], timedelta(days=DAYS, seconds=1))
    assert any(edge["id"] in ids for ids in run_replicas(stack))
    wait_for_tombstone(gateway, edge_receipt)
    assert flows.get(gateway, account, early["id"])["status"] == "voided"


def test_deleting_an_ended_agreement_keeps_only_a_tombstone(stack: Stack, gateway: str):
    account = signup(gateway, "Mary Keller")
    document, agreement, receipt = completed_agreement(stack, gateway, account)
    agreement_id = agreement["id"]
    assert status_of(gateway, account, f"/v1/agreements/{agreement_id}/signed.pdf") == 200
    # A draft on the same document: the document stays while an agreement still names it.
    draft = flows.create(gateway, account, document["id"], flows.people(1))
    sent = flows.create(gateway, account, flows.upload(gateway, account)["id"], flows.people(1))
    flows.act(gateway, account, sent["id"], "send")

    refused = requests.delete(f"{gateway}/v1/agreements/{sent['id']}", headers=auth(account), timeout=10)
    assert refused.status_code == 409, refused.text
    deleted = requests.delete(f"{gateway}/v1/agreements/{agreement_id}", headers=auth(account), timeout=10)
    assert deleted.status_code == 204, deleted.text

    assert status_of(gateway, account, f"/v1/agreements/{agreement_id}") == 404
    result = wait_for_tombstone(gateway, receipt)
    assert any("no longer exists" in note for note in result["notes"])
    wait_until(lambda: status_of(gateway, account, f"/v1/agreements/{agreement_id}/signed.pdf") == 404,
               timeout=30, message="the signed PDF is gone")
    assert status_of(gateway, account, f"/v1/agreements/{agreement_id}/receipt") == 404
    # Notify forgot the signer: no row of its database names their address any more.
    with _connect(stack, "notify") as conn:
        wait_until(lambda: conn.execute("SELECT count(*) FROM agreement_parties WHERE agreement_id = %s",
                                        (agreement_id,)).fetchone() == (0,),
                   timeout=30, message="notify forgets the purged agreement's parties")
    with _connect(stack, "documents") as conn:
        wait_until(lambda: conn.execute("SELECT count(*) FROM agreement_uses WHERE agreement_id = %s",
                                        (agreement_id,)).fetchone() == (0,),
                   timeout=30, message="documents learns of the purge")
    assert status_of(gateway, account, f"/v1/documents/{document['id']}") == 200  # the draft uses it

    # Deleting the draft leaves its document alone (a draft has no evidence to purge) ...
    assert requests.delete(f"{gateway}/v1/agreements/{draft['id']}", headers=auth(account),
                           timeout=10).status_code == 204
    assert status_of(gateway, account, f"/v1/agreements/{draft['id']}") == 404
    # ... and releases it: the owner can now delete the document itself.
    wait_until(lambda: requests.delete(f"{gateway}/v1/documents/{document['id']}", headers=auth(account),
                                       timeout=10).status_code == 204,
               timeout=30, message="the document is free to delete once no agreement names it")
