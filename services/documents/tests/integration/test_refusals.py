"""Bad and hostile input: the right 4xx, never a 500, within bounded time; and the 62
real-world PDFs."""

import hashlib
import json
import time
import zlib
from collections.abc import Iterator

import pytest
import requests

from pactra_platform import internal_auth

from .conftest import MAX_UPLOAD, MINIMAL, PDFS, Account, Docs

MANIFEST = json.loads((PDFS / "manifest.json").read_text())
MUST_ACCEPT = {"valid", "valid-image", "valid-text"}
MUST_REFUSE_ENCRYPTED = {"encrypted", "encrypted-pubkey"}


def assert_problem(response: requests.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


def pdf_with(objects: list[bytes]) -> bytes:
    """A PDF with a correct xref from raw objects (1 = catalog, 2 = pages, 3 = page...)."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def page_with_content(stream_dict: bytes, stream: bytes, extra: bytes = b"") -> bytes:
    return pdf_with([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R" + extra + b" >>",
        b"<< " + stream_dict + b" /Length %d >>\nstream\n" % len(stream) + stream
        + b"\nendstream",
    ])


def test_other_content_types_are_415(docs: Docs, account: Account) -> None:
    for content_type in ("text/plain", "image/png", "application/json"):
        response = docs.upload(account, MINIMAL.read_bytes(), content_type=content_type)
        assert_problem(response, 415, "unsupported_media_type")


def test_not_a_pdf_is_415_whatever_the_type(docs: Docs, account: Account) -> None:
    for data in (b"", b"hello world", b"PK\x03\x04" + b"\0" * 2000, b" " * 1024 + b"%PDF-1.4"):
        assert_problem(docs.upload(account, data), 415, "unsupported_media_type")


def test_magic_within_the_first_kilobyte_counts(docs: Docs, account: Account) -> None:
    """Junk before the header is allowed by readers; the file is then judged by parsing."""
    response = docs.upload(account, b"junk" * 100 + MINIMAL.read_bytes())
    assert response.status_code in (201, 422), response.text


def test_truncated_pdf_is_invalid(docs: Docs, account: Account) -> None:
    data = MINIMAL.read_bytes()
    assert_problem(docs.upload(account, data[: len(data) // 3]), 422, "invalid_pdf")
    assert_problem(docs.upload(account, b"%PDF-1.7\n" + b"garbage " * 100), 422, "invalid_pdf")


def test_encrypted_with_empty_user_password_is_refused(docs: Docs, account: Account) -> None:
    data = (PDFS / "qpdf__V4-aes.pdf").read_bytes()
    assert_problem(docs.upload(account, data), 422, "encrypted_pdf")


def test_declared_oversize_is_refused_by_the_gateway(docs: Docs, account: Account) -> None:
    response = docs.upload(account, b"%PDF-1.4\n" + b"0" * MAX_UPLOAD)
    assert_problem(response, 413, "payload_too_large")


def test_declared_oversize_is_refused_by_the_service(docs: Docs, account: Account) -> None:
    """Content-Length over the limit: refused before reading the body (none is sent)."""
    peer = docs.peer("gateway")
    response = peer.request("POST", "/v1/documents", workspace_id=account.workspace_id,
                            extra_headers={"Content-Type": "application/pdf",
                                           "Content-Length": str(MAX_UPLOAD + 1)},
                            data=b"")
    assert_problem(response, 413, "payload_too_large")


def test_chunked_oversize_is_refused_while_streaming(docs: Docs, account: Account) -> None:
    def body() -> Iterator[bytes]:
        yield b"%PDF-1.4\n"
        for _ in range(MAX_UPLOAD // 65536 + 2):
            yield b"0" * 65536

    # A signed peer's call covers the body's digest, so the digest is computed first; the body
    # itself still goes out chunked, with no length the service could refuse it by up front.
    peer = docs.peer("gateway")
    digest = hashlib.sha256(b"".join(body())).hexdigest()
    headers = {"Content-Type": "application/pdf", **peer.signer.sign(
        peer.target, "POST", "/v1/documents", {internal_auth.WORKSPACE: account.workspace_id}, digest)}
    response = requests.post(peer.base_url + "/v1/documents", data=body(), headers=headers, timeout=60)
    assert_problem(response, 413, "payload_too_large")
    through_gateway = requests.post(docs.url + "/v1/documents", data=body(), timeout=60,
                                    headers={**account.headers, "Content-Type": "application/pdf"})
    assert_problem(through_gateway, 413, "payload_too_large")


def test_compression_bomb_is_handled_in_bounded_time(docs: Docs, account: Account) -> None:
    packer = zlib.compressobj(9)
    bomb = packer.compress(b"BT /F1 12 Tf (A) Tj ET\n")
    zeros = b"\0" * (1024 * 1024)
    bomb += b"".join(packer.compress(zeros) for _ in range(300)) + packer.flush()
    data = page_with_content(b"/Filter /FlateDecode", bomb)
    assert len(data) < MAX_UPLOAD
    started = time.monotonic()
    response = docs.upload(account, data)
    assert time.monotonic() - started < 60
    assert response.status_code in (201, 422), response.text
    assert_service_still_works(docs, account)


def test_deep_nesting_is_handled_in_bounded_time(docs: Docs, account: Account) -> None:
    depth = 200_000
    data = page_with_content(b"", b"BT ET", extra=b" /Deep " + b"[" * depth + b"]" * depth)
    started = time.monotonic()
    response = docs.upload(account, data)
    assert time.monotonic() - started < 60
    assert response.status_code in (201, 422), response.text
    assert_service_still_works(docs, account)


def test_reference_loop_is_handled(docs: Docs, account: Account) -> None:
    data = pdf_with([
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>",
    ])
    response = docs.upload(account, data)
    assert response.status_code == 422, response.text


def assert_service_still_works(docs: Docs, account: Account) -> None:
    response = docs.upload(account, MINIMAL.read_bytes())
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["file"] for entry in MANIFEST])
def test_real_world_pdf(docs: Docs, account: Account, entry: dict) -> None:
    data = (PDFS / entry["file"]).read_bytes()
    started = time.monotonic()
    response = docs.upload(account, data, filename=entry["file"])
    assert time.monotonic() - started < 60
    assert response.status_code in (201, 413, 415, 422), response.text
    if response.status_code != 201:
        assert response.headers["Content-Type"] == "application/problem+json"
    if entry["category"] in MUST_ACCEPT:
        assert response.status_code == 201, response.text
        assert response.json()["sha256"] == entry["sha256"]
    if entry["category"] in MUST_REFUSE_ENCRYPTED:
        assert_problem(response, 422, "encrypted_pdf")
