"""The export's archive from staged parts, without a bucket: framing round-trips, the zip
streams (no seek), holds every file with the manifest's hashes, and a tampered part fails."""

import hashlib
import io
import json
import zipfile
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from pactra_gateway.adapters.export_archive import archive_chunks
from pactra_platform.exports import PARTS, PartCorrupt, frame, json_array, unframe


class FakeStore:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, name, chunks):
        self.objects[name] = b"".join(chunks)
        return len(self.objects[name])

    def get(self, name):
        data = self.objects[name]
        return iter([data[i:i + 1000] for i in range(0, len(data), 1000)])


def _export(store: FakeStore, extra: dict[str, list] | None = None):
    parts = {}
    for service in PARTS:
        files = [(f"{service}/a.json", [b'{"x": 1}']), (f"{service}/big.pdf", [b"%PDF" + bytes(300_000)])]
        files += (extra or {}).get(service, [])
        store.put(f"staging/{service}", frame(files))
        parts[service] = {"object": f"staging/{service}"}
    return SimpleNamespace(id="exp_1", workspace_id="ws_1", parts=parts,
                           created_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))


def _read_all(files):
    return [(path, b"".join(chunks)) for path, chunks in files]


def test_frames_round_trip_with_hashes():
    files = [("a/b.txt", [b"hello ", b"world"]), ("c.json", json_array(iter([{"a": 1}, {"b": 2}])))]
    got = [(path, b"".join(chunks)) for path, chunks in unframe(frame(files))]
    assert got[0] == ("a/b.txt", b"hello world")
    assert json.loads(got[1][1]) == [{"a": 1}, {"b": 2}]


def test_a_changed_byte_in_a_part_is_caught():
    data = bytearray(b"".join(frame([("a.txt", [b"hello world"])])))
    data[data.index(b"hello")] ^= 1
    with pytest.raises(PartCorrupt, match="do not match"):
        _read_all(unframe([bytes(data)]))


@pytest.mark.parametrize("path", ["../x", "/abs", "a/../b", "a//b", ""])
def test_unsafe_paths_are_refused(path):
    with pytest.raises(ValueError, match="unsafe path"):
        list(frame([(path, [b"x"])]))


def test_the_archive_streams_and_its_manifest_lists_every_file():
    store = FakeStore()
    export = _export(store)
    pieces = list(archive_chunks(store, export))
    assert max(len(p) for p in pieces) < 1024 * 1024  # streamed in pieces, never whole
    archive = zipfile.ZipFile(io.BytesIO(b"".join(pieces)))
    names = archive.namelist()
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["version"] == 1 and manifest["workspace_id"] == "ws_1"
    assert manifest["created_at"] == "2026-01-02T03:04:05.000Z"
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == set(names) - {"manifest.json"}
    assert "README.txt" in listed and len(listed) == 1 + 2 * len(PARTS)
    for name in listed:
        data = archive.read(name)
        assert hashlib.sha256(data).hexdigest() == listed[name]["sha256"]
        assert len(data) == listed[name]["size"]


def test_a_path_in_two_parts_fails_the_archive():
    store = FakeStore()
    export = _export(store, {"notify": [("gateway/a.json", [b"{}"])]})
    with pytest.raises(PartCorrupt):
        list(archive_chunks(store, export))


def test_thousands_of_files_keep_their_central_directory_out_of_memory(monkeypatch):
    """Each entry's ZipInfo goes to a spill file as its file is written, and comes back when
    the zip's central directory is written: the zip still lists and opens every file."""
    from pactra_gateway.adapters import export_archive

    largest = []
    original = export_archive._SpilledEntries.append

    def watching(self, info):
        original(self, info)
        largest.append(len(self))

    monkeypatch.setattr(export_archive._SpilledEntries, "append", watching)
    store = FakeStore()
    many = [(f"agreements/agr_{i:05d}/agreement.json", [b'{"id": %d}' % i]) for i in range(3000)]
    export = _export(store, {"signing": many})
    data = b"".join(archive_chunks(store, export))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
        assert archive.read("agreements/agr_02999/agreement.json") == b'{"id": 2999}'
    assert len(names) == len(set(names)) == 3000 + 2 * len(PARTS) + 2  # + README, manifest
    assert largest[-1] == len(names)  # every entry went through the spill
