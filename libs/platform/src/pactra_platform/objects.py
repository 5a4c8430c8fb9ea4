"""Encrypted object storage: every object sealed with Tink's streaming AEAD under its own key.

An object's bytes in the bucket are ``MAGIC | u16 length | wrapped data key | ciphertext``.
The data key is a fresh Tink keyset per object, sealed by the master key (``SecretBox``,
purpose ``object-keys``) and bound to ``bucket/name``, so a key copied onto another object
opens nothing. An object of a workspace (``put(..., workspace_id=)``, issue 15) is
``MAGIC2 | u8 length | key id | u16 length | wrapped data key | ciphertext`` instead: its keyset
is sealed under the workspace's data key (``pactra_platform.erasure``), named by a random key
id, so deleting the workspace's key row makes every copy of the object unreadable, backups
included (crypto-shredding). The header travels with the object, so copying or restoring a bucket keeps
objects readable. Upload and download both stream: memory stays at a few segments whatever
the object size.
"""

import io
import struct
from collections.abc import Iterable, Iterator
from typing import Any

import tink
from cryptography.exceptions import InvalidTag
from minio.error import S3Error
from tink import secret_key_access, streaming_aead

from .crypto import SecretBox
from .erasure import KeyShredded, WorkspaceBox, WorkspaceKeyring
from .settings import Settings
from .storage import bucket_name, ensure_bucket, object_store

MAGIC = b"PTO1"
MAGIC2 = b"PTO2"
_HEADER = struct.Struct(">4sH")
_KEY_ID = struct.Struct(">B")
_WRAPPED = struct.Struct(">H")
OBJECT_KEYS_PURPOSE = "object-keys"
# S3's multipart minimum; the upload buffers at most one part plus one chunk.
PART_SIZE = 5 * 1024 * 1024
# Multipart parts in flight per upload (minio's default is 3): each part is PART_SIZE in memory,
# and copied once more as it is cut. Measured in one run (300 MiB puts to the local S3, three
# each, alternated): 1 in flight 61 MiB/s with +31 MiB peak RSS, 2: 108 MiB/s +38 MiB,
# 3: 110 MiB/s +50 MiB. Two keep the speed and an export's workers well under 64 MiB.
PARALLEL_PARTS = 2
READ_SIZE = 64 * 1024
KEY_TEMPLATE = streaming_aead.streaming_aead_key_templates.AES256_GCM_HKDF_1MB

streaming_aead.register()


class ObjectCorrupt(Exception):
    """The stored object was tampered with, truncated, or is not one of ours."""


class ObjectMissing(Exception):
    """No object by that name."""


class ObjectShredded(ObjectMissing):
    """The object exists but its workspace's key was destroyed: it can never be read again."""


class _Sink(io.RawIOBase):
    """Where Tink writes ciphertext: a buffer the uploader drains as it reads."""

    def __init__(self, buffer: bytearray) -> None:
        super().__init__()
        self._buffer = buffer

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self._buffer.extend(data)
        return len(data)


class _EncryptingReader(io.RawIOBase):
    """A readable ciphertext stream that pulls and encrypts plaintext chunks on demand."""

    def __init__(self, header: bytes, chunks: Iterable[bytes],
                 primitive: streaming_aead.StreamingAead, associated: bytes) -> None:
        super().__init__()
        self._pending = bytearray(header)
        self._chunks = iter(chunks)
        self._stream = primitive.new_encrypting_stream(_Sink(self._pending), associated)
        self._finished = False
        self.plaintext_size = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        wanted = -1 if size is None else size
        while not self._finished and (wanted < 0 or len(self._pending) < wanted):
            chunk = next(self._chunks, None)
            if chunk is None:
                self._stream.close()  # writes the final segment that marks the true end
                self._finished = True
            elif chunk:
                self.plaintext_size += len(chunk)
                self._stream.write(chunk)
        count = len(self._pending) if wanted < 0 else min(wanted, len(self._pending))
        out = bytes(self._pending[:count])
        del self._pending[:count]
        return out


def _read_exact(source: Any, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        piece = source.read(count - len(data))
        if not piece:
            raise ObjectCorrupt("object is truncated in its header")
        data.extend(piece)
    return bytes(data)


class EncryptedObjectStore:
    def __init__(self, settings: Settings, service: str, sessions: Any = None) -> None:
        """``sessions`` (the service's sessionmaker) holds its ``workspace_keys``: without it,
        every object is sealed by the master key alone (the format before issue 15)."""
        self._settings = settings
        self._service = service
        self.bucket = bucket_name(settings, service)
        self._client = object_store(settings)
        self._keys = SecretBox(settings.master_key, OBJECT_KEYS_PURPOSE)
        self._sessions = sessions
        self._keyring = WorkspaceKeyring(settings.master_key)
        self._bucket_ready = False

    def _workspace_box(self, workspace_id: str) -> WorkspaceBox:
        with self._sessions() as session:
            return self._keyring.box_for(session, workspace_id, OBJECT_KEYS_PURPOSE)

    def _box_of_key(self, key_id: str) -> WorkspaceBox:
        if self._sessions is None:
            raise ObjectCorrupt("a workspace-keyed object, and no keyring to open it")
        with self._sessions() as session:
            return WorkspaceBox(key_id, self._keyring.key_by_id(session, key_id), OBJECT_KEYS_PURPOSE)

    def header(self, keyset: bytes, associated: bytes, workspace_id: str | None) -> bytes:
        if workspace_id is None or self._sessions is None:
            wrapped = self._keys.seal(keyset, associated)
            return _HEADER.pack(MAGIC, len(wrapped)) + wrapped
        box = self._workspace_box(workspace_id)
        key_id = box.key_id.encode()
        wrapped = box.seal(keyset, associated)
        return (MAGIC2 + _KEY_ID.pack(len(key_id)) + key_id + _WRAPPED.pack(len(wrapped))
                + wrapped)

    def read_header(self, response: Any, associated: bytes) -> tuple[bytes, str | None]:
        """The object's keyset, and the key id it was sealed under (None: the master key)."""
        magic = _read_exact(response, 4)
        try:
            if magic == MAGIC:
                (length,) = _WRAPPED.unpack(_read_exact(response, _WRAPPED.size))
                return self._keys.open(_read_exact(response, length), associated), None
            if magic == MAGIC2:
                (id_length,) = _KEY_ID.unpack(_read_exact(response, _KEY_ID.size))
                key_id = _read_exact(response, id_length).decode("ascii", "replace")
                (length,) = _WRAPPED.unpack(_read_exact(response, _WRAPPED.size))
                wrapped = _read_exact(response, length)
                try:
                    box = self._box_of_key(key_id)
                except KeyShredded as error:
                    raise ObjectShredded("the workspace key of this object was destroyed") from error
                return box.open(wrapped, associated), key_id
        except InvalidTag as error:
            raise ObjectCorrupt("object key does not open") from error
        raise ObjectCorrupt("not an encrypted object")

    def _associated(self, name: str) -> bytes:
        return f"{self.bucket}/{name}".encode()

    def put(self, name: str, chunks: Iterable[bytes], *, workspace_id: str | None = None) -> int:
        """Encrypt and upload ``chunks`` as ``name``; returns the plaintext size. With
        ``workspace_id`` the object's key is sealed under that workspace's data key."""
        if not self._bucket_ready:
            ensure_bucket(self._settings, self._service)
            self._bucket_ready = True
        handle = tink.new_keyset_handle(KEY_TEMPLATE)
        keyset = tink.proto_keyset_format.serialize(handle, secret_key_access.TOKEN)
        associated = self._associated(name)
        header = self.header(keyset, associated, workspace_id)
        primitive = handle.primitive(streaming_aead.StreamingAead)
        reader = _EncryptingReader(header, chunks, primitive, associated)
        self._client.put_object(self.bucket, name, reader, length=-1, part_size=PART_SIZE,
                                num_parallel_uploads=PARALLEL_PARTS, content_type="application/octet-stream")
        return reader.plaintext_size

    def get(self, name: str) -> Iterator[bytes]:
        """The plaintext of ``name``, streamed.

        The object is opened and its key unwrapped before this returns (so a missing or
        foreign object raises here); tampering or truncation in the body raises
        ``ObjectCorrupt`` while iterating, at the latest on the last chunk.
        """
        try:
            response = self._client.get_object(self.bucket, name)
        except S3Error as error:
            if error.code in ("NoSuchKey", "NoSuchBucket"):
                raise ObjectMissing(name) from error
            raise
        try:
            associated = self._associated(name)
            keyset, _ = self.read_header(response, associated)
            try:
                handle = tink.proto_keyset_format.parse(keyset, secret_key_access.TOKEN)
            except tink.TinkError as error:
                raise ObjectCorrupt("object key does not open") from error
            primitive = handle.primitive(streaming_aead.StreamingAead)
            stream = primitive.new_decrypting_stream(response, associated)
        except BaseException:
            response.close()
            response.release_conn()
            raise
        return self._plaintext(stream, response)

    @staticmethod
    def _plaintext(stream: Any, response: Any) -> Iterator[bytes]:
        try:
            while True:
                try:
                    data = stream.read(READ_SIZE)
                except tink.TinkError as error:
                    raise ObjectCorrupt("object ciphertext does not verify") from error
                if not data:
                    return
                yield data
        finally:
            response.close()
            response.release_conn()

    def delete(self, name: str) -> None:
        self._client.remove_object(self.bucket, name)

    def names(self, prefix: str = "") -> Iterator[str]:
        """The names of the objects under ``prefix`` (all of them with ``""``)."""
        try:
            for item in self._client.list_objects(self.bucket, prefix=prefix, recursive=True):
                yield item.object_name
        except S3Error as error:
            if error.code != "NoSuchBucket":
                raise

    def delete_prefix(self, prefix: str) -> int:
        """Delete every object under ``prefix`` (which must not be empty); returns how many."""
        if not prefix:
            raise ValueError("refusing to delete a whole bucket")
        count = 0
        for name in list(self.names(prefix)):
            self._client.remove_object(self.bucket, name)
            count += 1
        return count

    def rewrap(self, name: str, workspace_id: str) -> bool:
        """Re-seal ``name``'s key under ``workspace_id``'s data key (the one-off migration of
        objects made before per-workspace keys). Only the header changes: the body's
        ciphertext is bound to ``bucket/name``, not to the key that wraps its keyset, so it is
        copied as it is, streaming. False when the object already had a workspace key."""
        associated = self._associated(name)
        response = self._client.get_object(self.bucket, name)
        try:
            keyset, key_id = self.read_header(response, associated)
            if key_id is not None:
                return False
            header = self.header(keyset, associated, workspace_id)

            def body() -> Iterator[bytes]:
                yield header
                while chunk := response.read(READ_SIZE):
                    yield chunk

            self._client.put_object(self.bucket, name, _Concatenated(body()), length=-1,
                                    part_size=PART_SIZE, num_parallel_uploads=PARALLEL_PARTS,
                                    content_type="application/octet-stream")
        finally:
            response.close()
            response.release_conn()
        return True


class _Concatenated(io.RawIOBase):
    """A readable stream over an iterator of byte chunks."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._pending = bytearray()

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        wanted = -1 if size is None else size
        while wanted < 0 or len(self._pending) < wanted:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._pending.extend(chunk)
        count = len(self._pending) if wanted < 0 else min(wanted, len(self._pending))
        out = bytes(self._pending[:count])
        del self._pending[:count]
        return out
