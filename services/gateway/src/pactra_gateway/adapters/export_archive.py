"""The export's archive: a zip streamed from the staged parts straight into the bucket.

Nothing is ever whole in memory: each file streams from its part (decrypted as it is read),
through ``zipfile`` writing to a non-seekable pipe (so it uses data descriptors instead of
seeking back), into ``EncryptedObjectStore.put`` (encrypted as it is uploaded, in 5 MiB
multipart parts). The manifest's entries are spooled to a temporary file as files go by,
since 50,000 of them are several megabytes; ``manifest.json`` is the last entry of the zip.
"""

import hashlib
import json
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from typing import Any

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
    seen: set[str] = set()
    with tempfile.TemporaryFile() as manifest_entries:
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
        yield from add("README.txt", [README.format(workspace_id=export.workspace_id,
                                                    created_at=created_at).encode()])
        for service in PARTS:
            part = (export.parts or {}).get(service)
            if part is None:
                raise PartCorrupt(f"the {service} part is missing")
            for path, chunks in unframe(store.get(part["object"])):
                yield from add(path, chunks)

        def manifest() -> Iterator[bytes]:
            head = {"version": 1, "workspace_id": export.workspace_id, "created_at": created_at}
            yield json.dumps(head)[:-1].encode() + b', "files": ['
            manifest_entries.seek(0)
            while piece := manifest_entries.read(FLUSH_AT):
                yield piece
            yield b"\n]}\n"

        seen.discard("manifest.json")
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
