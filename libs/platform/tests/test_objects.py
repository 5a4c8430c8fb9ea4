"""Encrypted object storage against a real SeaweedFS: round trips, ciphertext at rest,
tamper and truncation detection."""

import hashlib
import io
import os
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from minio import Minio

from pactra_devtools import local_s3
from pactra_devtools.processes import stop_group
from pactra_platform.objects import (
    MAGIC,
    EncryptedObjectStore,
    ObjectCorrupt,
    ObjectMissing,
)
from pactra_platform.settings import Settings
from pactra_platform.storage import object_store


@pytest.fixture(scope="module")
def settings() -> Iterator[Settings]:
    ports = local_s3.free_port_block(len(local_s3.PORT_OPTIONS))
    port_map = dict(zip(local_s3.PORT_OPTIONS, ports, strict=True))
    access, secret = "objects-test", secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="pactra-objects-") as workdir:
        process = local_s3.start(Path(workdir) / "s3", port_map, access, secret)
        try:
            yield Settings(s3_endpoint=f"127.0.0.1:{port_map['s3.port']}", s3_access_key=access,
                           s3_secret_key=secret, s3_bucket_prefix=f"t{secrets.token_hex(3)}-",
                           master_key=secrets.token_urlsafe(48))
        finally:
            stop_group(process, 10)


@pytest.fixture(scope="module")
def store(settings: Settings) -> EncryptedObjectStore:
    return EncryptedObjectStore(settings, "objects")


@pytest.fixture(scope="module")
def raw(settings: Settings) -> Minio:
    return object_store(settings)


def chunked(data: bytes, size: int) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start:start + size]


def read_raw(raw: Minio, bucket: str, name: str) -> bytes:
    response = raw.get_object(bucket, name)
    try:
        return response.read()
    finally:
        response.close()
        response.release_conn()


def write_raw(raw: Minio, bucket: str, name: str, data: bytes) -> None:
    raw.put_object(bucket, name, io.BytesIO(data), len(data))


@pytest.mark.parametrize("size", [0, 1, 4096, 1024 * 1024, 1024 * 1024 + 17,
                                  11 * 1024 * 1024 + 5])
def test_round_trip_is_byte_exact(store: EncryptedObjectStore, size: int) -> None:
    data = os.urandom(size)
    name = f"rt-{size}"
    assert store.put(name, chunked(data, 100_000)) == size
    assert b"".join(store.get(name)) == data


def test_bucket_holds_ciphertext_not_plaintext(store: EncryptedObjectStore, raw: Minio) -> None:
    plaintext = b"%PDF-1.7 a very recognisable secret contract " * 2000
    store.put("secret", [plaintext])
    stored = read_raw(raw, store.bucket, "secret")
    assert stored.startswith(MAGIC)
    assert b"recognisable secret" not in stored
    assert len(stored) > len(plaintext)  # key header and per-segment tags


def test_each_object_gets_its_own_key(store: EncryptedObjectStore, raw: Minio) -> None:
    store.put("twin-a", [b"same bytes"])
    store.put("twin-b", [b"same bytes"])
    assert read_raw(raw, store.bucket, "twin-a") != read_raw(raw, store.bucket, "twin-b")


def test_flipped_byte_in_body_is_detected(store: EncryptedObjectStore, raw: Minio) -> None:
    data = os.urandom(3 * 1024 * 1024)
    store.put("tamper", chunked(data, 65536))
    stored = bytearray(read_raw(raw, store.bucket, "tamper"))
    stored[len(stored) // 2] ^= 0x01
    write_raw(raw, store.bucket, "tamper", bytes(stored))
    with pytest.raises(ObjectCorrupt):
        b"".join(store.get("tamper"))


def test_flipped_byte_in_key_header_is_detected(store: EncryptedObjectStore,
                                                raw: Minio) -> None:
    store.put("header", [b"hello"])
    stored = bytearray(read_raw(raw, store.bucket, "header"))
    stored[10] ^= 0x80
    write_raw(raw, store.bucket, "header", bytes(stored))
    with pytest.raises(ObjectCorrupt):
        b"".join(store.get("header"))


@pytest.mark.parametrize("cut", [1, 16, 1000])
def test_truncation_is_detected(store: EncryptedObjectStore, raw: Minio, cut: int) -> None:
    data = os.urandom(2 * 1024 * 1024 + 300)
    name = f"trunc-{cut}"
    store.put(name, chunked(data, 65536))
    stored = read_raw(raw, store.bucket, name)
    write_raw(raw, store.bucket, name, stored[:-cut])
    with pytest.raises(ObjectCorrupt):
        b"".join(store.get(name))


def test_truncation_at_a_segment_boundary_is_detected(store: EncryptedObjectStore,
                                                      raw: Minio) -> None:
    """Dropping whole trailing segments must not read as a shorter, valid object."""
    data = os.urandom(3 * 1024 * 1024)
    store.put("segments", chunked(data, 65536))
    stored = read_raw(raw, store.bucket, "segments")
    write_raw(raw, store.bucket, "segments", stored[: len(stored) // 2])
    with pytest.raises(ObjectCorrupt):
        b"".join(store.get("segments"))


def test_object_moved_to_another_name_does_not_open(store: EncryptedObjectStore,
                                                    raw: Minio) -> None:
    store.put("original", [b"bound to its name"])
    write_raw(raw, store.bucket, "impostor", read_raw(raw, store.bucket, "original"))
    with pytest.raises(ObjectCorrupt):
        b"".join(store.get("impostor"))


def test_plain_object_is_refused(store: EncryptedObjectStore, raw: Minio) -> None:
    write_raw(raw, store.bucket, "plain", b"%PDF-1.4 not encrypted at all")
    with pytest.raises(ObjectCorrupt):
        store.get("plain")


def test_missing_and_deleted_objects(store: EncryptedObjectStore) -> None:
    with pytest.raises(ObjectMissing):
        store.get("never-there")
    store.put("doomed", [b"x"])
    store.delete("doomed")
    with pytest.raises(ObjectMissing):
        store.get("doomed")


def test_another_master_key_cannot_open(settings: Settings, store: EncryptedObjectStore) -> None:
    store.put("keyed", [b"for our key only"])
    other = EncryptedObjectStore(settings.model_copy(update={"master_key": "x" * 48}),
                                 "objects")
    with pytest.raises(ObjectCorrupt):
        b"".join(other.get("keyed"))


def test_upload_streams_without_materialising(store: EncryptedObjectStore) -> None:
    """A 40 MiB upload from a generator: the digest matches after a streamed read-back."""
    total, digest = 0, hashlib.sha256()

    def produce() -> Iterator[bytes]:
        nonlocal total
        block = os.urandom(256 * 1024)
        for index in range(160):
            piece = bytes([index % 256]) + block[1:]
            digest.update(piece)
            total += len(piece)
            yield piece

    assert store.put("large", produce()) == total
    back = hashlib.sha256()
    for chunk in store.get("large"):
        assert len(chunk) <= 1024 * 1024
        back.update(chunk)
    assert back.hexdigest() == digest.hexdigest()
