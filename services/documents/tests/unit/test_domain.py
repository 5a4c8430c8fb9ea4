"""The documents service's rules, in plain Python: which uploads are accepted, limits, page
sizes and pages, test mode, object names, and which agreements hold a document."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pactra_documents.domain.errors import InvalidListLimit, PageNotFound, Refused, UploadTooLarge
from pactra_documents.domain.model import (
    MAGIC_WINDOW,
    AgreementUse,
    Document,
    Inspection,
    PageSize,
    Received,
    check_declared_size,
    holds,
    is_pdf,
    list_limit,
    workspace_prefix,
)

AT = datetime(2026, 1, 2, tzinfo=UTC)
RECEIVED = Received(Path("upload.bin"), 1234, "ab" * 32, "lease.pdf")


def accepted(inspection: Inspection, *, livemode: bool = True) -> Document:
    return Document.accepted("doc_1", "ws_1", "lease.pdf", RECEIVED, inspection, AT, livemode=livemode)


def test_a_pdf_is_known_by_its_magic_within_the_first_kilobyte() -> None:
    assert is_pdf(b"%PDF-1.7\n")
    assert is_pdf(b"junk" * 10 + b"%PDF-1.4")
    assert not is_pdf(b" " * MAGIC_WINDOW + b"%PDF-1.4")
    assert not is_pdf(b"PK\x03\x04 a zip")


def test_a_declared_size_over_the_limit_is_refused_before_reading() -> None:
    check_declared_size(None, 10)  # chunked: the stream's budget decides
    check_declared_size(10, 10)
    with pytest.raises(UploadTooLarge) as refused:
        check_declared_size(11, 10)
    assert refused.value.limit == 10


@pytest.mark.parametrize(("raw", "limit"), [("1", 1), ("20", 20), ("100", 100)])
def test_list_limits_from_1_to_100(raw: str, limit: int) -> None:
    assert list_limit(raw) == limit


@pytest.mark.parametrize("raw", ["0", "101", "-1", "ten", "", "2.5"])
def test_other_list_limits_are_invalid(raw: str) -> None:
    with pytest.raises(InvalidListLimit):
        list_limit(raw)


@pytest.mark.parametrize("verdict", ["invalid_pdf", "encrypted_pdf"])
def test_an_upload_the_probe_refuses_is_refused_with_its_verdict(verdict: str) -> None:
    with pytest.raises(Refused) as refused:
        accepted(Inspection(verdict, detail="The PDF is encrypted."))
    assert (refused.value.code, refused.value.detail) == (verdict, "The PDF is encrypted.")
    with pytest.raises(Refused) as without_detail:
        accepted(Inspection(verdict))
    assert without_detail.value.detail == "The PDF cannot be used."


def test_an_accepted_upload_keeps_its_size_hash_pages_and_page_sizes() -> None:
    document = accepted(Inspection("ok", 2, page_sizes=((612.0, 792.0), (792.0, 612.0))), livemode=False)
    assert (document.size, document.sha256, document.pages) == (1234, "ab" * 32, 2)
    assert document.page_sizes == (PageSize(612.0, 792.0), PageSize(792.0, 612.0))
    assert document.livemode is False
    # A probe that measured no page sizes leaves them unknown, not empty.
    assert accepted(Inspection("ok", 1)).page_sizes is None


def test_test_and_live_documents_never_mix() -> None:
    live, test = accepted(Inspection("ok", 1)), accepted(Inspection("ok", 1), livemode=False)
    assert live.visible_in(True) and not live.visible_in(False)
    assert test.visible_in(False) and not test.visible_in(True)
    # A service calling as itself sees either.
    assert live.visible_in(None) and test.visible_in(None)


def test_pages_are_numbered_from_one_to_the_last() -> None:
    document = accepted(Inspection("ok", 3))
    for page in (1, 2, 3):
        document.check_page(page)
    for page in (0, 4, -1):
        with pytest.raises(PageNotFound) as missing:
            document.check_page(page)
        assert (missing.value.document_id, missing.value.page) == ("doc_1", page)


def test_every_object_is_named_under_its_workspace_then_its_document() -> None:
    document = accepted(Inspection("ok", 2))
    assert document.object_names() == ["ws_1/doc_1/original.pdf", "ws_1/doc_1/text.txt",
                                       "ws_1/doc_1/pages/1.png", "ws_1/doc_1/pages/2.png"]
    assert all(name.startswith(document.prefix) for name in document.object_names())
    assert document.prefix.startswith(workspace_prefix("ws_1"))


def test_an_agreement_holds_its_document_until_released() -> None:
    use = AgreementUse("agr_1")
    assert not use.holds  # not yet created: names no document
    use.created("doc_1", "ws_1")
    assert use.holds and holds([use], "doc_1") and not holds([use], "doc_2")
    use.noted("ws_other")  # an ending only notes the agreement
    assert use.holds and use.workspace_id == "ws_1"
    use.release("ws_1")
    assert not use.holds and not holds([use], "doc_1")


def test_a_release_that_overtakes_the_creation_stays_released() -> None:
    use = AgreementUse("agr_1")
    use.release("ws_1")
    use.created("doc_1", "ws_1")
    assert use.ended and not use.holds and use.document_id == "doc_1"
