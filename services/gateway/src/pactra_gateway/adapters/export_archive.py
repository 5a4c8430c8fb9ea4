"""The export's archive: a zip streamed from the staged parts straight into the bucket.

Nothing is ever whole in memory: each file streams from its part (decrypted as it is read),
through ``zipfile`` writing to a non-seekable pipe (so it uses data descriptors instead of
seeking back), into ``EncryptedObjectStore.put`` (encrypted as it is uploaded, in 5 MiB
multipart parts). The manifest's entries are spooled to a temporary file as files go by,
since 50,000 of them are several megabytes; ``manifest.json`` is the last entry of the zip.
So are the zip's own central-directory entries (``_SpilledEntries``).
"""

import hashlib
import json
import pickle
import struct
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from typing import IO, Any

from pactra_contracts.times import format_time
from pactra_platform.exports import PARTS, PartCorrupt, archive_object, unframe
from pactra_platform.objects import EncryptedObjectStore

FLUSH_AT = 256 * 1024
# Already compressed: stored as they are (deflating them again costs CPU for nothing).
STORED_SUFFIXES = (".pdf", ".png")

README = """Pactra export
=============

This archive holds everything Pactra kept for workspace {workspace_id}, as of {created_at}.

  manifest.json                     every other file of the archive, with its SHA-256 and size
  README.txt                        this file
  account.json                      the workspace and its owner, as GET /v1/account shows them
  usage.json                        this period's usage and the last periods', as GET /v1/usage
  keys/jwks.json                    the receipt-signing public keys, in force and retired
  keys/certificates.pem             the PDF sealing certificates with their chains
  documents/<doc_id>/document.pdf   the document as it was uploaded
  documents/<doc_id>/metadata.json  its metadata (GET /v1/documents/{{id}})
  documents/<doc_id>/text.txt       the text extracted from it (pages separated by form feeds)
  documents/<doc_id>/analysis.json  its advisory analysis, when one was made
  agreements/<agr_id>/agreement.json  the agreement with its signers and fields
  agreements/<agr_id>/audit.json      its hash-chained audit trail
  agreements/<agr_id>/receipt.json    its signed receipt, once it ended
  agreements/<agr_id>/signed.pdf      the sealed signed PDF, for a completed agreement
  agreements/<agr_id>/certificate.pdf its certificate of completion
  webhooks.json                     the webhook endpoints (never their secrets)
  deliveries.json                   every webhook delivery, with its attempts

Verify all of it offline, with no network and no Pactra server:

  pip install pactra-verify        (or ./libs/verify from Pactra's repository)
  pactra-verify --export <this folder, unzipped>

It checks every file against the manifest, every receipt's signature against
keys/jwks.json, every audit trail's hash chain, every document against the receipt that
names it, and every sealed PDF's seal against keys/certificates.pem. One changed byte
anywhere makes it fail, and it says which file.
"""


class _Pipe:
    """Where zipfile writes: no ``tell``/``seek``, so zipfile streams (data descriptors)."""

    def __init__(self) -> None:
        self.buffer = bytearray()

    def write(self, data: Any) -> int:
        self.buffer.extend(data)
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = bytes(self.buffer)
        self.buffer.clear()
        return out


class _SpilledEntries:
    """``ZipFile.filelist`` for an archive of any number of files: each entry's ``ZipInfo``,
    once its file is written, is pickled to a temporary file, and read back one at a time when
    ``close`` writes the central directory (zipfile only appends to it, counts it and, at the
    end, iterates it). In memory, the 50,000 entries of a 10,000-agreement export were about
    20 MiB of the gateway-worker's 63 MiB growth (the target is 64)."""

    _LENGTH = struct.Struct(">I")

    def __init__(self, spill: IO[bytes]) -> None:
        self._spill = spill
        self._count = 0

    def append(self, info: zipfile.ZipInfo) -> None:
        data = pickle.dumps(info, protocol=pickle.HIGHEST_PROTOCOL)
        self._spill.write(self._LENGTH.pack(len(data)) + data)
        self._count += 1

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[zipfile.ZipInfo]:
        self._spill.flush()
        self._spill.seek(0)
        for _ in range(self._count):
            (length,) = self._LENGTH.unpack(self._spill.read(self._LENGTH.size))
            # Our own temporary file, written just above by this process: nothing foreign.
            yield pickle.loads(self._spill.read(length))  # noqa: S301


class _Forgotten(dict):
    """``ZipFile.NameToInfo``, holding nothing: a writing zipfile uses it only to warn of a
    duplicate name, which ``archive_chunks`` refuses before (``_PathDigests``)."""

    def __setitem__(self, name: str, info: zipfile.ZipInfo) -> None:
        pass


class _PathDigests:
    """The paths already in the archive, as 16-byte digests (a third of the memory of the
    paths themselves, for 50,000 of them)."""

    def __init__(self) -> None:
        self._digests: set[bytes] = set()

    @staticmethod
    def _digest(path: str) -> bytes:
        return hashlib.blake2b(path.encode(), digest_size=16).digest()

    def __contains__(self, path: str) -> bool:
        return self._digest(path) in self._digests

    def add(self, path: str) -> None:
        self._digests.add(self._digest(path))


def _info(path: str, date_time: tuple[int, ...]) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(path, date_time=date_time[:6])
    info.compress_type = zipfile.ZIP_STORED if path.endswith(STORED_SUFFIXES) else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def archive_chunks(store: EncryptedObjectStore, export: Any) -> Iterator[bytes]:
    """The zip's bytes, in pieces of about FLUSH_AT, as they are made."""
    created_at = format_time(export.created_at)
    date_time = export.created_at.timetuple()
    pipe = _Pipe()
    seen = _PathDigests()
    with tempfile.TemporaryFile() as manifest_entries, tempfile.TemporaryFile() as central:
        count = 0

        def add(path: str, chunks: Iterable[bytes]) -> Iterator[bytes]:
            nonlocal count
            if path in seen or path in ("manifest.json",):
                raise PartCorrupt(f"{path} is in the export twice")
            seen.add(path)
            digest, size = hashlib.sha256(), 0
            with archive.open(_info(path, date_time), "w") as entry:
                for chunk in chunks:
                    digest.update(chunk)
                    size += len(chunk)
                    entry.write(chunk)
                    if len(pipe.buffer) >= FLUSH_AT:
                        yield pipe.take()
            line = json.dumps({"path": path, "sha256": digest.hexdigest(), "size": size})
            manifest_entries.write(((",\n" if count else "\n") + line).encode())
            count += 1

        archive = zipfile.ZipFile(pipe, "w", allowZip64=True)
        archive.filelist = _SpilledEntries(central)  # type: ignore[assignment]  # list-like
        archive.NameToInfo = _Forgotten()
        try:
            yield from add("README.txt", [README.format(workspace_id=export.workspace_id,
                                                        created_at=created_at).encode()])
            for service in PARTS:
                part = (export.parts or {}).get(service)
                if part is None:
                    raise PartCorrupt(f"the {service} part is missing")
                for path, chunks in unframe(store.get(part["object"])):
                    yield from add(path, chunks)
        except BaseException:
            # Abandoned: the zip must not write its central directory when it is collected,
            # from a spill file that is closed by then.
            archive.fp = None
            raise

        def manifest() -> Iterator[bytes]:
            head = {"version": 1, "workspace_id": export.workspace_id, "created_at": created_at}
            yield json.dumps(head)[:-1].encode() + b', "files": ['
            manifest_entries.seek(0)
            while piece := manifest_entries.read(FLUSH_AT):
                yield piece
            yield b"\n]}\n"

        with archive.open(_info("manifest.json", date_time), "w") as entry:
            for piece in manifest():
                entry.write(piece)
                if len(pipe.buffer) >= FLUSH_AT:
                    yield pipe.take()
        archive.close()
        yield pipe.take()


def assemble(store: EncryptedObjectStore, export: Any) -> tuple[int, str]:
    """Write the export's archive, encrypted under its workspace's data key, to the bucket;
    (size, SHA-256) of the zip."""
    digest = hashlib.sha256()

    def hashed() -> Iterator[bytes]:
        for chunk in archive_chunks(store, export):
            digest.update(chunk)
            yield chunk

    size = store.put(archive_object(export.id), hashed(), workspace_id=export.workspace_id)
    return size, digest.hexdigest()
