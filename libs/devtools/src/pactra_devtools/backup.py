"""``make backup`` and ``make restore``: every service's database and bucket, to a folder and back.

A backup is a folder (``.pactra/backups/<UTC time>/`` unless given): ``<database>.dump`` per
service (``pg_dump --format=custom``), ``s3/<bucket>/<n>`` per object, and ``manifest.json``
naming what each file is (object keys never become paths, so no key can write outside the
folder on restore). Objects and sensitive columns are stored as Pactra keeps them: encrypted
under the master key, which is *not* in the backup (deploy/OPERATIONS.md, "Key custody").

Restoring replaces each database whole: it is restored under a temporary name, then swapped
in (the old one dropped WITH (FORCE), the new one renamed), so running processes never see a
half-restored database; their next statement reconnects (pactra_platform.db). Each bucket
then holds exactly the backup's objects. Messages in the broker are not part of a backup: the
outbox re-publishes what was not yet published, and the inboxes discard what was handled.
Works on any Settings, so the tests back up and restore their own stack.
"""

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from pactra_platform.settings import SERVICES, Settings
from pactra_platform.storage import bucket_name, object_store

MANIFEST = "manifest.json"
FORMAT = 1


def _libpq(settings: Settings, service: str, database: str | None = None) -> tuple[list[str], dict]:
    """pg_dump/pg_restore connection options, and the environment carrying the password
    (never on a command line, where ``ps`` shows it)."""
    url = make_url(settings.database_url_of(service))
    if database is not None:
        url = url.set(database=database)
    options = ["--dbname", str(url.set(drivername="postgresql", password=None)
                               .render_as_string(hide_password=False))]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return options, env


def _admin(settings: Settings, service: str):
    url: URL = make_url(settings.database_url_of(service)).set(database="postgres")
    return create_engine(url, isolation_level="AUTOCOMMIT")


def backup(settings: Settings, folder: Path) -> dict:
    """Write a backup of every service's database and bucket into ``folder`` (made; must be
    empty or absent). Returns the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        raise FileExistsError(f"{folder} is not empty")
    manifest: dict = {"format": FORMAT, "taken_at": datetime.now(UTC).isoformat(),
                      "databases": {}, "buckets": {}}
    for service in SERVICES:
        database = settings.database_name(service)
        options, env = _libpq(settings, service)
        dump = folder / f"{database}.dump"
        subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--file", str(dump), *options],
                       env=env, check=True, capture_output=True, timeout=3600)
        manifest["databases"][service] = {"database": database, "file": dump.name}
    client = object_store(settings)
    for service in SERVICES:
        bucket = bucket_name(settings, service)
        if not client.bucket_exists(bucket):
            continue
        objects = []
        for n, item in enumerate(client.list_objects(bucket, recursive=True)):
            path = Path("s3", bucket, str(n))
            stat = client.fget_object(bucket, item.object_name, str(folder / path))
            objects.append({"key": item.object_name, "file": str(path), "size": stat.size,
                            "content_type": stat.content_type})
        manifest["buckets"][service] = {"bucket": bucket, "objects": objects}
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest


def restore(settings: Settings, folder: Path) -> dict:
    """Replace every service's database and bucket with the backup in ``folder``."""
    manifest = json.loads((folder / MANIFEST).read_text())
    if manifest.get("format") != FORMAT:
        raise ValueError(f"{folder}: not a backup this version can restore")
    for service, entry in manifest["databases"].items():
        _restore_database(settings, service, folder / Path(entry["file"]).name)
    client = object_store(settings)
    for service, entry in manifest["buckets"].items():
        bucket = bucket_name(settings, service)
        if not client.bucket_exists(bucket):
            client.make_bucket(bucket)
        keep = set()
        for item in entry["objects"]:
            source = (folder / item["file"]).resolve()
            if not source.is_relative_to(folder.resolve()):
                raise ValueError(f"{item['file']}: outside the backup")
            client.fput_object(bucket, item["key"], str(source),
                               content_type=item.get("content_type") or "application/octet-stream")
            keep.add(item["key"])
        for found in list(client.list_objects(bucket, recursive=True)):
            if found.object_name not in keep:
                client.remove_object(bucket, found.object_name)
    return manifest


def _restore_database(settings: Settings, service: str, dump: Path) -> None:
    name = settings.database_name(service)
    staging = f"{name}_restoring"
    admin = _admin(settings, service)
    try:
        with admin.connect() as conn:
            # Identifiers cannot be bound parameters; these names are ours (prefix + service).
            conn.execute(text(f'DROP DATABASE IF EXISTS "{staging}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{staging}"'))
        options, env = _libpq(settings, service, staging)
        restored = subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", *options, str(dump)],
                                  env=env, capture_output=True, text=True, timeout=3600, check=False)
        if restored.returncode:
            raise RuntimeError(f"pg_restore of {dump.name} failed: {restored.stderr[-2000:]}")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'ALTER DATABASE "{staging}" RENAME TO "{name}"'))
    finally:
        admin.dispose()


def default_folder(state_dir: Path) -> Path:
    return state_dir / "backups" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")

