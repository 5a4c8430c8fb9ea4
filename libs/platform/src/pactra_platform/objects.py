"""Encrypted object storage: every object sealed with Tink's streaming AEAD under its own key.

An object's bytes in the bucket are ``MAGIC | u16 length | wrapped data key | ciphertext``.
The data key is a fresh Tink keyset per object, sealed by the master key (``SecretBox``,
purpose ``object-keys``) and bound to ``bucket/name``, so a key copied onto another object
opens nothing. The header travels with the object, so copying or restoring a bucket keeps
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
from .settings import Settings
from .storage import bucket_name, ensure_bucket, object_store

MAGIC = b"PTO1"
_HEADER = struct.Struct(">4sH")
OBJECT_KEYS_PURPOSE = "object-keys"
# S3's multipart minimum; the upload buffers at most one part plus one chunk.
PART_SIZE = 5 * 1024 * 1024
READ_SIZE = 64 * 1024
KEY_TEMPLATE = streaming_aead.streaming_aead_key_templates.AES256_GCM_HKDF_1MB

streaming_aead.register()


class ObjectCorrupt(Exception):
    """The stored object was tampered with, truncated, or is not one of ours."""


class ObjectMissing(Exception):
    """No object by that name."""


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
    def __init__(self, settings: Settings, service: str) -> None:
        self._settings = settings
        self._service = service
        self.bucket = bucket_name(settings, service)
        self._client = object_store(settings)
        self._keys = SecretBox(settings.master_key, OBJECT_KEYS_PURPOSE)
        self._bucket_ready = False

    def _associated(self, name: str) -> bytes:
        return f"{self.bucket}/{name}".encode()

    def put(self, name: str, chunks: Iterable[bytes]) -> int:
        """Encrypt and upload ``chunks`` as ``name``; returns the plaintext size."""
        if not self._bucket_ready:
            ensure_bucket(self._settings, self._service)
            self._bucket_ready = True
        handle = tink.new_keyset_handle(KEY_TEMPLATE)
        keyset = tink.proto_keyset_format.serialize(handle, secret_key_access.TOKEN)
        associated = self._associated(name)
        wrapped = self._keys.seal(keyset, associated)
        header = _HEADER.pack(MAGIC, len(wrapped)) + wrapped
        primitive = handle.primitive(streaming_aead.StreamingAead)
        reader = _EncryptingReader(header, chunks, primitive, associated)
        self._client.put_object(self.bucket, name, reader, length=-1, part_size=PART_SIZE,
                                content_type="application/octet-stream")
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
            magic, length = _HEADER.unpack(_read_exact(response, _HEADER.size))
            if magic != MAGIC:
                raise ObjectCorrupt("not an encrypted object")
            associated = self._associated(name)
            try:
                keyset = self._keys.open(_read_exact(response, length), associated)
                handle = tink.proto_keyset_format.parse(keyset, secret_key_access.TOKEN)
            except (InvalidTag, tink.TinkError) as error:
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
