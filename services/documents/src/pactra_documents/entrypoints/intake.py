"""Receiving an upload onto disk: bounded, hashed as it arrives, never whole in memory."""

import hashlib
import io
import re
import unicodedata
from pathlib import Path
from typing import IO, Any

from werkzeug.formparser import MultiPartParser

from ..domain.errors import MalformedUpload
from ..domain.model import Received

CHUNK = 64 * 1024
DEFAULT_FILENAME = "document.pdf"
MAX_FILENAME = 200
# Non-file form fields are tiny; anything bigger is not a form we know.
MAX_FORM_FIELD_BYTES = 64 * 1024
MAX_FORM_PARTS = 20


class TooLarge(Exception):
    """The body went past the request's budget while streaming (the view drains the rest)."""


class _Budget:
    """The bytes one request may still write to disk, shared by all its parts."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self, count: int) -> None:
        self.left -= count
        if self.left < 0:
            raise TooLarge


class _CappedFile(io.RawIOBase):
    """A file on disk that hashes what it is given and stops at the request's budget."""

    def __init__(self, path: Path, budget: _Budget) -> None:
        super().__init__()
        self.path = path
        self._file = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._budget = budget
        self._hash = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        # The form parser rewinds each file at its end; we read back from the path instead.
        return 0

    def write(self, data: Any) -> int:
        self._budget.spend(len(data))
        self._hash.update(data)
        self._file.write(data)
        self.size += len(data)
        return len(data)

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()
        super().close()

    def received(self, filename: str | None) -> Received:
        self.close()
        return Received(self.path, self.size, self._hash.hexdigest(), filename)


def receive_raw(stream: IO[bytes], workdir: Path, limit: int) -> Received:
    target = _CappedFile(workdir / "upload.bin", _Budget(limit))
    try:
        while chunk := stream.read(CHUNK):
            target.write(chunk)
    finally:
        target.close()
    return target.received(None)


def receive_multipart(stream: IO[bytes], boundary: str, content_length: int | None,
                      workdir: Path, limit: int) -> Received:
    """The ``file`` part of a ``multipart/form-data`` body."""
    budget = _Budget(limit)
    made: list[_CappedFile] = []

    def factory(**_: object) -> _CappedFile:
        made.append(_CappedFile(workdir / f"part-{len(made)}.bin", budget))
        return made[-1]

    parser = MultiPartParser(factory, max_form_memory_size=MAX_FORM_FIELD_BYTES,
                             max_form_parts=MAX_FORM_PARTS, buffer_size=CHUNK)
    try:
        _, files = parser.parse(stream, boundary.encode("latin-1"), content_length)
    except TooLarge:
        raise
    except Exception as error:  # any parse failure is the client's bad body
        if type(error).__name__ == "RequestEntityTooLarge":
            raise MalformedUpload("A form field is too large.") from error
        raise MalformedUpload(f"The multipart body is malformed: {error}") from error
    finally:
        for part in made:
            part.close()
    upload = files.get("file")
    if upload is None:
        raise MalformedUpload("The multipart body has no complete part named 'file'.")
    stored = upload.stream
    assert isinstance(stored, _CappedFile)
    return stored.received(upload.filename)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def clean_filename(raw: str | None) -> str:
    """A display name only: no directories, no control or invisible format characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    name = _CONTROL.sub("", name).strip().lstrip(".").strip()
    if len(name) > MAX_FILENAME:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: MAX_FILENAME - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 \
            else name[:MAX_FILENAME]
    return name or DEFAULT_FILENAME
