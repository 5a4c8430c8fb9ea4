"""Receiving uploads onto disk: limits, hashing, multipart parts, filename cleaning."""

import hashlib
import io
from pathlib import Path

import pytest

from pactra_documents.entrypoints.intake import (
    MalformedUpload,
    TooLarge,
    clean_filename,
    receive_multipart,
    receive_raw,
)

BOUNDARY = "xyzBOUNDARYxyz"


def multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    body = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        body += (f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n"
                 "Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"
    return body + f"--{BOUNDARY}--\r\n".encode()


def test_raw_is_hashed_and_written(tmp_path: Path) -> None:
    data = bytes(range(256)) * 1000
    received = receive_raw(io.BytesIO(data), tmp_path, len(data))
    assert received.size == len(data)
    assert received.sha256 == hashlib.sha256(data).hexdigest()
    assert received.path.read_bytes() == data


def test_raw_over_the_limit_stops(tmp_path: Path) -> None:
    with pytest.raises(TooLarge):
        receive_raw(io.BytesIO(b"x" * 1001), tmp_path, 1000)


def test_multipart_takes_the_file_part(tmp_path: Path) -> None:
    body = multipart(("note", None, b"hello"), ("other", "o.bin", b"other bytes"),
                     ("file", "c.pdf", b"%PDF-1.4 the file"))
    received = receive_multipart(io.BytesIO(body), BOUNDARY, len(body), tmp_path, 10_000)
    assert received.filename == "c.pdf"
    assert received.path.read_bytes() == b"%PDF-1.4 the file"
    assert received.sha256 == hashlib.sha256(b"%PDF-1.4 the file").hexdigest()


def test_multipart_limit_counts_every_part(tmp_path: Path) -> None:
    body = multipart(("a", "a.bin", b"x" * 600), ("file", "c.pdf", b"y" * 600))
    with pytest.raises(TooLarge):
        receive_multipart(io.BytesIO(body), BOUNDARY, len(body), tmp_path, 1000)


def test_multipart_cut_short_has_no_file(tmp_path: Path) -> None:
    body = multipart(("file", "c.pdf", b"%PDF-1.4 " * 100))[:200]
    with pytest.raises(MalformedUpload):
        receive_multipart(io.BytesIO(body), BOUNDARY, len(body), tmp_path, 10_000)


@pytest.mark.parametrize(("raw", "clean"), [
    ("contract.pdf", "contract.pdf"),
    ("../../etc/passwd", "passwd"),
    ("a\\b\\c.pdf", "c.pdf"),
    ("tab\there\n.pdf", "tabhere.pdf"),
    ("\u202eevil\u200b.pdf", "evil.pdf"),
    (".hidden.pdf", "hidden.pdf"),
    ("", "document.pdf"),
    (None, "document.pdf"),
    ("/", "document.pdf"),
    ("Verträge 2026.pdf", "Verträge 2026.pdf"),
])
def test_clean_filename(raw: str | None, clean: str) -> None:
    assert clean_filename(raw) == clean


def test_long_filenames_keep_their_extension() -> None:
    cleaned = clean_filename("a" * 500 + ".pdf")
    assert len(cleaned) == 200 and cleaned.endswith(".pdf")
