"""Deleting a document an agreement uses: 409 until the agreement ended and its evidence is
settled (receipt.issued, or a receipt.failed not retried by itself), from bus events."""

from datetime import timedelta

from pactra_contracts.events import (
    AgreementCompleted,
    AgreementCreated,
    AgreementEnded,
    Person,
    ReceiptFailed,
    ReceiptIssued,
    make_event,
)
from pactra_contracts.ids import new_id
from pactra_contracts.times import utcnow
from pactra_devtools.testing import wait_until

from .conftest import Account, Docs


def created(agreement_id: str, document: dict, workspace_id: str):
    return make_event("agreement.created", AgreementCreated(
        agreement_id=agreement_id, title="Lease", document_id=document["id"],
        document_sha256=document["sha256"], document_pages=document["pages"], message=None,
        signing_order="parallel", expires_at=utcnow() + timedelta(days=30),
        sender=Person(name="Ada", email="ada@example.com"), signers=[], fields=[],
    ), producer="signing", workspace_id=workspace_id)


def ended(event_type: str, agreement_id: str, workspace_id: str):
    data = (AgreementCompleted(agreement_id=agreement_id, signatures=[])
            if event_type == "agreement.completed"
            else AgreementEnded(agreement_id=agreement_id, reason=None, notify_signer_ids=[]))
    return make_event(event_type, data, producer="signing", workspace_id=workspace_id)


def issued(agreement_id: str, workspace_id: str):
    return make_event("receipt.issued", ReceiptIssued(
        agreement_id=agreement_id, receipt_id=new_id("rcpt"), title="Lease", outcome="voided",
        sealed_sha256=None, receipt_sha256="0" * 64, recipients=[],
    ), producer="receipts", workspace_id=workspace_id)


def failed(agreement_id: str, workspace_id: str, *, will_retry: bool):
    return make_event("receipt.failed", ReceiptFailed(
        agreement_id=agreement_id, reason="seal_failed: The sealed PDF could not be made.",
        code="seal_failed", attempts=3, will_retry=will_retry,
    ), producer="receipts", workspace_id=workspace_id)


def in_use(docs: Docs, document_id: str) -> bool:
    rows = docs.sql("SELECT count(*) FROM agreement_uses WHERE document_id = :d AND NOT ended",
                    d=document_id)
    return rows[0][0] > 0


def test_delete_conflicts_while_an_agreement_uses_it(docs: Docs, account: Account,
                                                     uploaded) -> None:
    document = uploaded()
    agreement_id = new_id("agr")
    event = created(agreement_id, document, account.workspace_id)
    docs.publish(event)
    docs.publish(event)  # a redelivery changes nothing
    wait_until(lambda: in_use(docs, document["id"]), timeout=20)
    response = docs.delete(account, f"/v1/documents/{document['id']}")
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    # Ended, but its evidence (which stamps the original) is not made yet: still held.
    ending = ended("agreement.voided", agreement_id, account.workspace_id)
    docs.publish(ending)
    wait_until(lambda: docs.sql("SELECT count(*) FROM inbox WHERE event_id = :e", e=ending.id)
               == [(1,)], timeout=20)
    assert in_use(docs, document["id"])
    assert docs.delete(account, f"/v1/documents/{document['id']}").status_code == 409
    docs.publish(issued(agreement_id, account.workspace_id))
    wait_until(lambda: not in_use(docs, document["id"]), timeout=20)
    assert docs.delete(account, f"/v1/documents/{document['id']}").status_code == 204


def test_a_release_that_overtakes_the_creation_still_releases(docs: Docs, account: Account,
                                                               uploaded) -> None:
    document = uploaded()
    agreement_id = new_id("agr")
    docs.publish(issued(agreement_id, account.workspace_id))
    wait_until(lambda: docs.sql("SELECT ended FROM agreement_uses WHERE agreement_id = :a",
                                a=agreement_id) == [(True,)], timeout=20)
    docs.publish(created(agreement_id, document, account.workspace_id))
    wait_until(lambda: docs.sql("SELECT document_id FROM agreement_uses WHERE agreement_id = :a",
                                a=agreement_id) == [(document["id"],)], timeout=20)
    assert not in_use(docs, document["id"])
    assert docs.delete(account, f"/v1/documents/{document['id']}").status_code == 204


def test_settled_evidence_releases_and_a_retried_failure_does_not(docs: Docs, account: Account,
                                                                   uploaded) -> None:
    for event_type in ("agreement.completed", "agreement.declined", "agreement.expired"):
        document = uploaded()
        agreement_id = new_id("agr")
        docs.publish(created(agreement_id, document, account.workspace_id))
        wait_until(lambda d=document: in_use(docs, d["id"]), timeout=20)
        docs.publish(ended(event_type, agreement_id, account.workspace_id))
        retried = failed(agreement_id, account.workspace_id, will_retry=True)
        docs.publish(retried)
        wait_until(lambda e=retried: docs.sql("SELECT count(*) FROM inbox WHERE event_id = :e",
                                              e=e.id) == [(1,)], timeout=20)
        assert in_use(docs, document["id"])  # retried by itself: the original is still needed
        docs.publish(failed(agreement_id, account.workspace_id, will_retry=False))
        wait_until(lambda d=document: not in_use(docs, d["id"]), timeout=20)
