"""The documents service's use cases and event handlers, against fakes: what each keeps,
publishes and refuses."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pactra_contracts.events import (
    SYSTEM,
    AgreementCreated,
    AgreementEnded,
    AgreementPurged,
    Person,
    ReceiptFailed,
    ReceiptIssued,
    WorkspaceDeletionRequested,
    make_event,
)
from pactra_devtools.fakes import FakeObjectStore
from pactra_documents.domain.errors import InUse, NotFound, Refused, UnknownCursor
from pactra_documents.domain.model import AgreementUse, Document, Inspection, PageSize, Received
from pactra_documents.service_layer import documents, handlers, purging
from pactra_documents.service_layer.documents import Context

from .fakes import FakeProbe, FakeUnitOfWork

CONTEXT = Context(request_id="req_1", actor=SYSTEM)
PDF = b"%PDF-1.7\n" + b"x" * 100
AT = datetime(2026, 1, 2, tzinfo=UTC)


def received(tmp_path: Path, data: bytes = PDF) -> Received:
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    return Received(path, len(data), "ab" * 32, None)


def stored(uow: FakeUnitOfWork, document_id: str, *, workspace_id: str = "ws_1", livemode: bool = True,
           at: datetime = AT, pages: int = 2) -> Document:
    document = Document(id=document_id, workspace_id=workspace_id, filename=f"{document_id}.pdf",
                        size=100, sha256="cd" * 32, pages=pages, page_sizes=None, created_at=at,
                        livemode=livemode)
    uow.documents.add(document)
    return document


def test_an_upload_is_stored_and_announced_with_its_usage(tmp_path: Path) -> None:
    uow, store = FakeUnitOfWork(), FakeObjectStore()
    probe = FakeProbe(Inspection("ok", 2, page_sizes=((612.0, 792.0), (612.0, 792.0))))
    document = documents.upload(uow, store, probe, "ws_1", received(tmp_path), "lease.pdf", CONTEXT,
                                livemode=False)
    assert uow.documents.get("ws_1", document.id, False) == document
    assert store.objects == {document.content_name: PDF, document.text_name: probe.text}
    assert uow.types() == ["usage.recorded", "document.uploaded"]
    usage, uploaded = uow.published
    # The gateway reserved the upload's storage under the request's id: this confirms it.
    assert usage.data["source_event_id"] == "upload:req_1" and usage.data["quantity"] == len(PDF)
    assert usage.data["livemode"] is False
    assert uploaded.data["document_id"] == document.id and uploaded.data["pages"] == 2
    assert uploaded.correlation_id == "req_1"


def test_what_is_not_a_pdf_is_refused_before_the_probe_reads_it(tmp_path: Path) -> None:
    uow, store, probe = FakeUnitOfWork(), FakeObjectStore(), FakeProbe(Inspection("ok", 1))
    with pytest.raises(Refused) as refused:
        documents.upload(uow, store, probe, "ws_1", received(tmp_path, b"PK\x03\x04"), "a.pdf", CONTEXT)
    assert refused.value.code == "unsupported_media_type"
    assert probe.inspected == [] and store.objects == {} and uow.published == []


def test_a_pdf_the_probe_refuses_leaves_nothing_behind(tmp_path: Path) -> None:
    uow, store = FakeUnitOfWork(), FakeObjectStore()
    with pytest.raises(Refused) as refused:
        documents.upload(uow, store, FakeProbe(Inspection("encrypted_pdf", detail="Encrypted.")),
                         "ws_1", received(tmp_path), "a.pdf", CONTEXT)
    assert refused.value.code == "encrypted_pdf"
    assert store.objects == {} and uow.documents.rows == {} and uow.published == []


def test_a_document_is_found_only_in_its_workspace_and_mode() -> None:
    uow = FakeUnitOfWork()
    stored(uow, "doc_live")
    stored(uow, "doc_test", livemode=False)
    assert documents.get(uow, "ws_1", "doc_live", True).id == "doc_live"
    assert documents.get(uow, "ws_1", "doc_test", None).id == "doc_test"
    for workspace_id, document_id, livemode in (("ws_2", "doc_live", None), ("ws_1", "doc_live", False),
                                                ("ws_1", "doc_test", True), ("ws_1", "doc_none", None)):
        with pytest.raises(NotFound):
            documents.get(uow, workspace_id, document_id, livemode)


def test_the_list_is_newest_first_in_pages_with_a_cursor() -> None:
    uow = FakeUnitOfWork()
    for index in range(5):
        stored(uow, f"doc_{index}", at=AT + timedelta(minutes=index))
    stored(uow, "doc_other_mode", livemode=False, at=AT + timedelta(hours=1))
    first = documents.list_documents(uow, "ws_1", limit=2, starting_after=None, livemode=True)
    assert [d.id for d in first.data] == ["doc_4", "doc_3"] and first.has_more
    assert first.next_cursor == "doc_3"
    rest = documents.list_documents(uow, "ws_1", limit=3, starting_after="doc_3", livemode=True)
    assert [d.id for d in rest.data] == ["doc_2", "doc_1", "doc_0"]
    assert not rest.has_more and rest.next_cursor is None
    with pytest.raises(UnknownCursor):
        documents.list_documents(uow, "ws_1", limit=2, starting_after="doc_other_mode", livemode=True)


def test_a_document_whose_objects_are_gone_is_not_found() -> None:
    uow, store = FakeUnitOfWork(), FakeObjectStore()
    document = stored(uow, "doc_1")
    with pytest.raises(NotFound):
        documents.content(uow, store, "ws_1", "doc_1")
    store.put(document.content_name, [PDF])
    found, chunks = documents.content(uow, store, "ws_1", "doc_1")
    assert found == document and b"".join(chunks) == PDF


def test_deleting_removes_row_and_objects_and_gives_the_storage_back() -> None:
    uow, store = FakeUnitOfWork(), FakeObjectStore()
    document = stored(uow, "doc_1")
    for name in (*document.object_names(), "ws_1/doc_2/original.pdf"):
        store.put(name, [b"x"])
    documents.delete(uow, store, "ws_1", "doc_1", CONTEXT)
    assert uow.documents.rows == {} and list(store.objects) == ["ws_1/doc_2/original.pdf"]
    assert uow.types() == ["document.deleted", "usage.recorded"]
    assert uow.published[1].data["quantity"] == -100


def test_a_document_an_agreement_holds_cannot_be_deleted_until_released() -> None:
    uow, store = FakeUnitOfWork(), FakeObjectStore()
    stored(uow, "doc_1")
    created = make_event("agreement.created", AgreementCreated(
        agreement_id="agr_1", title="Lease", document_id="doc_1", document_sha256="cd" * 32,
        document_pages=2, message=None, signing_order="parallel", expires_at=AT + timedelta(days=30),
        sender=Person(name="Ada", email="ada@example.com"), signers=[], fields=[],
    ), producer="signing", workspace_id="ws_1")
    handlers.on_agreement_created(created, uow)
    ended = make_event("agreement.voided", AgreementEnded(agreement_id="agr_1", reason=None,
                                                          notify_signer_ids=[]),
                       producer="signing", workspace_id="ws_1")
    handlers.on_agreement_ended(ended, uow)
    retrying = make_event("receipt.failed", ReceiptFailed(agreement_id="agr_1", reason="tsa: down",
                                                          will_retry=True),
                          producer="receipts", workspace_id="ws_1")
    handlers.on_evidence_settled(retrying, uow)
    for _ in range(2):  # ended, then a failure that will be retried: still held
        with pytest.raises(InUse):
            documents.delete(uow, store, "ws_1", "doc_1", CONTEXT)
    issued = make_event("receipt.issued", ReceiptIssued(
        agreement_id="agr_1", receipt_id="rcpt_1", title="Lease", outcome="voided",
        sealed_sha256=None, receipt_sha256="ef" * 32, recipients=[]),
        producer="receipts", workspace_id="ws_1")
    handlers.on_evidence_settled(issued, uow)
    documents.delete(uow, store, "ws_1", "doc_1", CONTEXT)
    assert uow.documents.rows == {}


def test_a_release_that_overtakes_the_creation_still_releases() -> None:
    uow = FakeUnitOfWork()
    issued = make_event("receipt.issued", ReceiptIssued(
        agreement_id="agr_1", receipt_id="rcpt_1", title="Lease", outcome="completed",
        sealed_sha256=None, receipt_sha256="ef" * 32, recipients=[]),
        producer="receipts", workspace_id="ws_1")
    handlers.on_evidence_settled(issued, uow)
    created = make_event("agreement.created", AgreementCreated(
        agreement_id="agr_1", title="Lease", document_id="doc_1", document_sha256="cd" * 32,
        document_pages=2, message=None, signing_order="parallel", expires_at=AT,
        sender=Person(name="Ada", email="ada@example.com"), signers=[], fields=[],
    ), producer="signing", workspace_id="ws_1")
    handlers.on_agreement_created(created, uow)
    assert uow.agreement_uses.rows["agr_1"] == AgreementUse("agr_1", "ws_1", "doc_1", ended=True)
    assert not uow.agreement_uses.holding("doc_1")


def purged(agreement_id: str, *, purge_document: bool = True):
    return make_event("agreement.purged", AgreementPurged(
        agreement_id=agreement_id, document_id="doc_1", reason="retention",
        purge_document=purge_document), producer="signing", workspace_id="ws_1")


def test_a_purged_agreement_takes_its_document_along_unless_another_names_it() -> None:
    uow, store = FakeUnitOfWork(), FakeObjectStore()
    document = stored(uow, "doc_1")
    store.put(document.content_name, [PDF])
    store.put(document.page_name(1), [b"png"])
    for agreement_id in ("agr_1", "agr_2"):
        uow.agreement_uses.save(AgreementUse(agreement_id, "ws_1", "doc_1", ended=True))
    purging.on_agreement_purged(purged("agr_1"), uow, store)
    assert "doc_1" in uow.documents.rows and "agr_1" not in uow.agreement_uses.rows
    assert uow.pending == [] and len(store.objects) == 2
    purging.on_agreement_purged(purged("agr_2"), uow, store)
    assert uow.documents.rows == {} and store.objects == {}
    assert [event.type for event in uow.pending] == ["document.deleted", "usage.recorded"]
    # A redelivery finds nothing left to do.
    purging.on_agreement_purged(purged("agr_2"), uow, store)
    assert len(uow.pending) == 2


def test_a_deleted_draft_leaves_its_document_alone() -> None:
    uow, store = FakeUnitOfWork(), FakeObjectStore()
    stored(uow, "doc_1")
    uow.agreement_uses.save(AgreementUse("agr_1", "ws_1", "doc_1"))
    purging.on_agreement_purged(purged("agr_1", purge_document=False), uow, store)
    assert "doc_1" in uow.documents.rows and uow.agreement_uses.rows == {}


def test_a_deleted_workspace_is_erased_with_its_objects_and_reported() -> None:
    uow, store = FakeUnitOfWork(), FakeObjectStore()
    stored(uow, "doc_1")
    store.put("ws_1/doc_1/original.pdf", [PDF])
    store.put("ws_1/doc_1/pages/1.png", [b"png"])
    store.put("ws_10/doc_9/original.pdf", [PDF])  # another workspace whose id starts alike
    request = make_event("workspace.deletion_requested", WorkspaceDeletionRequested(
        workspace_id="ws_1", deletion_id="del_1"), producer="gateway", workspace_id=None)
    purging.on_deletion_requested(request, uow, store)
    assert uow.erased == ["ws_1"] and list(store.objects) == ["ws_10/doc_9/original.pdf"]
    assert uow.reports == [(request, {"documents": 1, "objects": 2})]


def test_a_document_is_shown_as_the_api_has_always_shown_it() -> None:
    """The public model (pactra_contracts.resources.Document) writes the bytes the API wrote:
    members in order, sizes in points as floats, times to the millisecond."""
    document = Document(id="doc_1", workspace_id="ws_1", filename="a é.pdf", size=12, sha256="ab" * 32,
                        pages=2, page_sizes=(PageSize(612, 792), PageSize(595.28, 841.89)),
                        created_at=datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC), livemode=False)
    assert json.dumps(documents.document_out(document).model_dump(mode="json"), ensure_ascii=False) == (
        '{"id": "doc_1", "filename": "a é.pdf", "size": 12, "sha256": "' + "ab" * 32 + '", "pages": 2, '
        '"page_sizes": [{"width": 612.0, "height": 792.0}, {"width": 595.28, "height": 841.89}], '
        '"created_at": "2026-01-02T03:04:05.123Z", "livemode": false}')
