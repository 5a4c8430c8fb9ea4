"""A service's part of a workspace export (api.md, "Exports"), staged in the exports bucket.

Every service answers ``export.requested`` the same way (:func:`contribute`): it streams its
files, one after the other, into ONE object of the shared exports bucket
(``<PACTRA_S3_BUCKET_PREFIX>exports``), encrypted like every object (Tink streaming AEAD under a
per-object key wrapped by the master key), then publishes ``export.part_ready`` naming it. The
gateway's worker reads the parts back in order and writes them, as they stream, into the zip.

One object per part, not per file: 10,000 agreements make ~50,000 files, and one upload per
file would be most of an export's time; the file list travels inside the object for the same
reason (it would be megabytes on the bus).

A part's plaintext is a sequence of frames::

    b"F" | u16 path length | path (UTF-8) | chunks | u32 0 | sha256 of the file (32 bytes)
    chunk = u32 length | bytes
    b"E" | u32 number of files                          (the end of the part)

so neither the writer nor the reader needs a file's size before its bytes: both stream, and
no process holds a whole file. The reader checks each file's SHA-256 and the count.
"""

import hashlib
import json
import logging
import re
import struct
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pactra_contracts.events import Event, ExportPartReady, ExportRequested, make_event

from .objects import EncryptedObjectStore
from .settings import Settings

log = logging.getLogger(__name__)

EXPORTS = "exports"  # the shared bucket's name after the prefix (storage.bucket_name)
# Who contributes a part, in the order the archive holds them.
PARTS = ("gateway", "documents", "ai", "signing", "receipts", "notify")
_PATH = struct.Struct(">H")
_CHUNK = struct.Struct(">I")
_END_COUNT = struct.Struct(">I")
MAX_CHUNK = 1024 * 1024
# Paths inside the archive: relative, plain names, no "..": a part cannot write outside its
# folder when the archive is unzipped.
SAFE_PATH = re.compile(r"^(?!.*(?:^|/)\.\.?(?:/|$))[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*$")

File = tuple[str, Iterable[bytes]]


class PartCorrupt(Exception):
    """A staged part does not parse, or a file's bytes do not match their hash."""


def exports_store(settings: Settings) -> EncryptedObjectStore:
    return EncryptedObjectStore(settings, EXPORTS)


def part_object(export_id: str, service: str) -> str:
    return f"staging/{export_id}/{service}.part"


def archive_object(export_id: str) -> str:
    return f"archives/{export_id}.zip"


def json_bytes(value: Any) -> bytes:
    """How every JSON file of an export is written: readable, keys in a stable order."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).encode() + b"\n"


def json_array(items: Iterable[Any]) -> Iterator[bytes]:
    """A JSON array written as its items come (a table of any size, in bounded memory)."""
    first = True
    yield b"[\n"
    for item in items:
        yield (b"" if first else b",\n") + json.dumps(item, sort_keys=True, ensure_ascii=False).encode()
        first = False
    yield b"\n]\n"


def frame(files: Iterable[File], counter: list[int] | None = None) -> Iterator[bytes]:
    """The part's plaintext, streamed from ``files`` (path, chunks) pairs."""
    count = 0
    for path, chunks in files:
        if not SAFE_PATH.match(path):
            raise ValueError(f"unsafe path in an export part: {path!r}")
        encoded = path.encode()
        yield b"F" + _PATH.pack(len(encoded)) + encoded
        digest = hashlib.sha256()
        for chunk in chunks:
            for start in range(0, len(chunk), MAX_CHUNK):
                piece = chunk[start:start + MAX_CHUNK]
                digest.update(piece)
                yield _CHUNK.pack(len(piece)) + piece
        yield _CHUNK.pack(0) + digest.digest()
        count += 1
    if counter is not None:
        counter.append(count)
    yield b"E" + _END_COUNT.pack(count)


class _Reader:
    """Exact reads over an iterator of chunks, holding at most one chunk beyond the read."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self._buffer = bytearray()

    def read(self, count: int) -> bytes:
        while len(self._buffer) < count:
            chunk = next(self._chunks, None)
            if chunk is None:
                raise PartCorrupt("the part ends in the middle of a frame")
            self._buffer.extend(chunk)
        out = bytes(self._buffer[:count])
        del self._buffer[:count]
        return out

    def exhausted(self) -> bool:
        if self._buffer:
            return False
        return all(not chunk for chunk in self._chunks)


def unframe(chunks: Iterable[bytes]) -> Iterator[tuple[str, Iterator[bytes]]]:
    """The files of a part: (path, chunks) pairs, each to be read to its end before the next
    is asked for. A file whose bytes do not match the hash its writer framed raises
    ``PartCorrupt`` on its last chunk."""
    reader = _Reader(chunks)
    count = 0
    while True:
        kind = reader.read(1)
        if kind == b"E":
            (stated,) = _END_COUNT.unpack(reader.read(_END_COUNT.size))
            if stated != count or not reader.exhausted():
                raise PartCorrupt("the part's end does not match what it holds")
            return
        if kind != b"F":
            raise PartCorrupt("the part holds an unknown frame")
        (length,) = _PATH.unpack(reader.read(_PATH.size))
        try:
            path = reader.read(length).decode()
        except UnicodeDecodeError as error:
            raise PartCorrupt("a path in the part is not UTF-8") from error
        if not SAFE_PATH.match(path):
            raise PartCorrupt(f"unsafe path in the part: {path!r}")
        yielded_to_end: list[bool] = []
        yield path, _file_chunks(reader, path, yielded_to_end)
        if not yielded_to_end:
            raise PartCorrupt(f"{path} was not read to its end")
        count += 1


def _file_chunks(reader: _Reader, path: str, done: list[bool]) -> Iterator[bytes]:
    digest = hashlib.sha256()
    while True:
        (length,) = _CHUNK.unpack(reader.read(_CHUNK.size))
        if length == 0:
            break
        if length > MAX_CHUNK:
            raise PartCorrupt(f"{path}: a chunk is larger than frames allow")
        piece = reader.read(length)
        digest.update(piece)
        yield piece
    if reader.read(32) != digest.digest():
        raise PartCorrupt(f"{path}: its bytes do not match the hash its part states")
    done.append(True)


def stage_part(settings: Settings, export_id: str, service: str,
               files: Iterable[File]) -> tuple[str, int, int]:
    """Stream ``files`` into the service's staged part; (object name, files, plaintext bytes)."""
    name = part_object(export_id, service)
    counter: list[int] = []
    size = exports_store(settings).put(name, frame(files, counter))
    return name, counter[0], size


def contribute(event: Event[ExportRequested], uow: Any, settings: Settings, service: str,
               files: Callable[[str, Any], Iterable[File]]) -> None:
    """A service's handler of ``export.requested``: stage ``files(workspace_id, session)``
    (read in the handler's own transaction, so the part is one consistent snapshot of what
    the service held) and publish ``export.part_ready`` in the same unit of work as the inbox
    record. A redelivered request stages the same object again, whole: nothing half-written
    is ever named by an event."""
    data = event.payload()
    if service not in data.parts or event.workspace_id is None:
        return
    name, count, size = stage_part(settings, data.export_id, service,
                                   files(event.workspace_id, uow.session))
    log.info("export part staged", extra={"export_id": data.export_id, "files": count,
                                          "bytes": size, "workspace_id": event.workspace_id})
    uow.publish(make_event(
        "export.part_ready",
        ExportPartReady(export_id=data.export_id, service=service, object=name, files=count, bytes=size),
        producer=service, workspace_id=event.workspace_id, correlation_id=event.correlation_id,
        causation_id=event.id))
