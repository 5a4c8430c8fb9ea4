"""Exports (api.md, "Exports"): the gateway asks every service for its part over the bus,
assembles the archive, and serves it through a capability link.

1. ``POST /v1/exports`` records the export (pending) and publishes ``export.requested``.
2. Each service (the gateway too, for usage and the account) stages its part in the shared
   exports bucket and publishes ``export.part_ready`` (``pactra_platform.exports``).
3. Here, :func:`on_part_ready` counts the parts; the last one wakes the assembler
   (:func:`assemble_due`, a periodic job of every gateway worker: one replica claims an export
   with a lease), which streams the parts into a zip that streams, encrypted, into the bucket
   (``adapters/export_archive``). Then the staged parts are deleted.
4. ``GET /v1/exports/{id}`` of a ready export mints a download link: 32 random bytes,
   base64url, kept only as SHA-256, valid 24 h; ``GET /v1/exports/download/{token}`` streams
   the archive decrypted, with no API key. After 7 days the export is deleted
   (:func:`purge_expired`, safe with N replicas).
"""

import hashlib
import logging
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, sessionmaker

from pactra_contracts.api import ExportList, ExportOut, UsageOut
from pactra_contracts.events import Actor, Event, ExportPartReady, ExportRequested, make_event
from pactra_contracts.ids import new_id
from pactra_contracts.times import utcnow
from pactra_gateway import SERVICE
from pactra_gateway.adapters import security_log
from pactra_gateway.adapters.models import Export, ExportLink
from pactra_gateway.adapters.usage_counters import Usage
from pactra_gateway.domain import exports as rules
from pactra_gateway.domain.errors import NotFound
from pactra_gateway.domain.exports import ASSEMBLY_LEASE, KEPT, LINK_VALID, PARTS_DEADLINE
from pactra_gateway.service_layer.unit_of_work import GatewayUnitOfWork, SqlAlchemyGatewayUnitOfWork
from pactra_platform.crypto import b64url
from pactra_platform.exports import (
    EXPORTS,
    PARTS,
    File,
    PartCorrupt,
    archive_object,
    json_bytes,
)
from pactra_platform.objects import EncryptedObjectStore, ObjectCorrupt, ObjectMissing
from pactra_platform.settings import Settings

log = logging.getLogger(__name__)

# Committing the last part wakes the assembler of every gateway worker (one claims it).
CHANNEL = "pactra_exports"
DOWNLOAD_PATH = "/v1/exports/download/"


@dataclass(frozen=True)
class Download:
    export_id: str
    size: int
    sha256: str
    chunks: Iterator[bytes]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --- the API ---------------------------------------------------------------------------------


def request_export(uow: SqlAlchemyGatewayUnitOfWork, workspace_id: str, actor: Actor, client_ip: str,
                   request_id: str | None) -> Export:
    now = utcnow()
    with uow:
        export = Export(id=new_id("exp"), workspace_id=workspace_id, status=rules.PENDING, parts={},
                        parts_done=0, parts_total=len(PARTS), created_at=now, expires_at=now + KEPT)
        uow.session.add(export)
        uow.session.flush()
        uow.publish(make_event("export.requested", ExportRequested(export_id=export.id, parts=list(PARTS)),
                               producer=SERVICE, workspace_id=workspace_id, correlation_id=request_id,
                               actor=actor))
        security_log.record(uow, workspace_id, "export.created", actor, client_ip,
                            {"export_id": export.id})
        uow.commit()
        uow.session.expunge(export)
    return export


def _out(export: Export, public_url: str, link: tuple[str, datetime] | None) -> ExportOut:
    return ExportOut(
        id=export.id, status=export.status, parts_done=export.parts_done,
        parts_total=export.parts_total, size=export.size, sha256=export.sha256,
        download_url=f"{public_url.rstrip('/')}{DOWNLOAD_PATH}{link[0]}" if link else None,
        download_url_expires_at=link[1] if link else None,
        created_at=export.created_at, expires_at=export.expires_at, error=export.error)


def _mint(session: Session, export: Export) -> tuple[str, datetime] | None:
    """A fresh download link for a ready export (its token is shown only in this answer)."""
    if export.status != rules.READY:
        return None
    token = b64url(secrets.token_bytes(32))
    expires_at = min(utcnow() + LINK_VALID, export.expires_at)
    session.add(ExportLink(token_hash=token_hash(token), export_id=export.id, expires_at=expires_at))
    return token, expires_at


def get(uow: SqlAlchemyGatewayUnitOfWork, workspace_id: str, export_id: str, public_url: str) -> ExportOut:
    with uow:
        export = uow.session.scalar(select(Export).where(
            Export.id == export_id, Export.workspace_id == workspace_id))
        if export is None:
            raise NotFound(export_id)
        link = _mint(uow.session, export)
        out = _out(export, public_url, link)
        uow.commit()
    return out


def page(uow: SqlAlchemyGatewayUnitOfWork, workspace_id: str, public_url: str, *, limit: int,
         starting_after: str | None) -> ExportList:
    with uow:
        query = select(Export).where(Export.workspace_id == workspace_id)
        if starting_after:
            cursor = uow.session.scalar(select(Export).where(
                Export.id == starting_after, Export.workspace_id == workspace_id))
            if cursor is None:
                raise NotFound(starting_after)
            query = query.where((Export.created_at < cursor.created_at)
                                | ((Export.created_at == cursor.created_at) & (Export.id < cursor.id)))
        rows = list(uow.session.scalars(
            query.order_by(Export.created_at.desc(), Export.id.desc()).limit(limit + 1)))
        shown = [_out(row, public_url, _mint(uow.session, row)) for row in rows[:limit]]
        uow.commit()
    has_more = len(rows) > limit
    return ExportList(data=shown, has_more=has_more, next_cursor=shown[-1].id if has_more else None)


def download(sessions: sessionmaker[Session], settings: Settings, token: str) -> Download:
    """The archive of the export ``token`` opens, decrypted as it streams; ``NotFound`` for an
    unknown, expired or malformed token (all alike, so a guess learns nothing)."""
    if not 20 <= len(token) <= 100:
        raise NotFound("token")
    with sessions() as session:
        found = session.execute(
            select(Export).join(ExportLink, ExportLink.export_id == Export.id)
            .where(ExportLink.token_hash == token_hash(token), ExportLink.expires_at > utcnow(),
                   Export.status == rules.READY, Export.expires_at > utcnow())).scalar_one_or_none()
        if found is None:
            raise NotFound("token")
        session.expunge(found)
    try:
        chunks = archive_store(sessions, settings).get(archive_object(found.id))
    except ObjectMissing as error:
        raise NotFound("token") from error
    return Download(export_id=found.id, size=found.size or 0, sha256=found.sha256 or "", chunks=chunks)


def archive_store(sessions: sessionmaker[Session], settings: Settings) -> EncryptedObjectStore:
    """The exports bucket as the gateway uses it: it reads the staged parts (each sealed by the
    master key: the service that wrote one cannot share its own workspace key with the
    gateway, and a part lives only until the archive is written) and writes the archive under
    the workspace's data key in the gateway's keyring, so that deleting the workspace shreds
    every copy of the archive, a backup's too, for the 7 days it is kept."""
    return EncryptedObjectStore(settings, EXPORTS, sessions)


# --- the worker ------------------------------------------------------------------------------


def on_part_ready(event: Event[ExportPartReady], uow: GatewayUnitOfWork) -> None:
    """Record a service's part; the last one wakes the assembler. A part for an export that is
    gone or finished (a late redelivery) changes nothing."""
    data = event.payload()
    export = uow.exports.get(data.export_id, lock=True)
    if export is None or not rules.accepts_part(export.status, export.workspace_id, event.workspace_id,
                                                data.service, PARTS):
        log.warning("export part dropped", extra={"export_id": data.export_id, "service": data.service})
        return
    export.parts = rules.with_part(export.parts or {}, data.service,
                                  {"object": data.object, "files": data.files, "bytes": data.bytes})
    export.parts_done = len(export.parts)
    export.status = rules.RUNNING
    if rules.complete(export.parts_done, export.parts_total):
        uow.wake(CHANNEL)


def own_files(usage: Usage, workspace_id: str, uow: SqlAlchemyGatewayUnitOfWork,
              max_upload_bytes: int) -> Iterator[File]:
    """The gateway's part: this period's usage and history, and the account."""
    from pactra_gateway.service_layer import (
        owner_account,  # the account views' module; imported late to keep this light
    )

    report = UsageOut.model_validate(usage.report(workspace_id))
    yield "usage.json", [json_bytes(report.model_dump(mode="json"))]
    account = owner_account.get_account(workspace_id, uow, max_upload_bytes=max_upload_bytes)
    yield "account.json", [json_bytes(account.model_dump(mode="json"))]


def _claim(sessions: sessionmaker[Session]) -> Export | None:
    with sessions() as session:
        now = utcnow()
        export = session.scalar(
            select(Export).where(Export.status == rules.RUNNING, Export.parts_done >= Export.parts_total,
                                 (Export.lease_until.is_(None)) | (Export.lease_until < now))
            .order_by(Export.created_at).limit(1).with_for_update(skip_locked=True))
        if export is None:
            return None
        export.lease_until = now + ASSEMBLY_LEASE
        session.commit()
        session.expunge(export)
        claimed: Export = export
        return claimed


def assemble_due(sessions: sessionmaker[Session], settings: Settings) -> int:
    """Assemble every export whose parts are all in; returns how many were finished."""
    from pactra_gateway.adapters.export_archive import assemble

    done = 0
    while (export := _claim(sessions)) is not None:
        store = archive_store(sessions, settings)
        try:
            size, sha256 = assemble(store, export)
        except (PartCorrupt, ObjectCorrupt, ObjectMissing) as error:
            log.error("export failed", extra={"export_id": export.id, "error": str(error)[:200]})
            _finish(sessions, export.id, status=rules.FAILED,
                    error="A part of the archive could not be read; ask for a new export.")
        else:
            _finish(sessions, export.id, status=rules.READY, size=size, sha256=sha256)
            log.info("export ready", extra={"export_id": export.id, "bytes": size})
            done += 1
        # Either way the staged parts have served their purpose.
        for part in (export.parts or {}).values():
            try:
                store.delete(part["object"])
            except Exception:  # the 7-day purge tries again
                log.warning("staged export part not deleted", extra={"export_id": export.id})
    return done


def _finish(sessions: sessionmaker[Session], export_id: str, **values: object) -> None:
    with sessions() as session:
        session.execute(update(Export).where(Export.id == export_id).values(
            lease_until=None, ready_at=utcnow() if values.get("status") == rules.READY else None, **values))
        session.commit()


def fail_stalled(sessions: sessionmaker[Session]) -> None:
    """Exports still missing parts after PARTS_DEADLINE fail (a service that never answered)."""
    with sessions() as session:
        session.execute(update(Export).where(
            Export.status.in_(rules.COLLECTING), Export.created_at < utcnow() - PARTS_DEADLINE,
            Export.lease_until.is_(None)).values(
            status=rules.FAILED,
            error="Not every service contributed its part in time; ask for a new export."))
        session.commit()


def purge_expired(sessions: sessionmaker[Session], settings: Settings, batch: int = 50) -> int:
    """Delete exports past their 7 days, archive and any staged part; expired links too. Rows
    are claimed with SKIP LOCKED, so N replicas share the work and never trip on each other;
    an object deleted twice is no error."""
    purged = 0
    store = archive_store(sessions, settings)
    while True:
        with sessions() as session:
            rows = list(session.scalars(select(Export).where(Export.expires_at <= utcnow())
                                        .limit(batch).with_for_update(skip_locked=True)))
            for export in rows:
                for name in [archive_object(export.id),
                             *(part["object"] for part in (export.parts or {}).values())]:
                    store.delete(name)
                session.delete(export)
            session.execute(delete(ExportLink).where(ExportLink.expires_at <= utcnow()))
            session.commit()
        purged += len(rows)
        if len(rows) < batch:
            if purged:
                log.info("expired exports deleted", extra={"count": purged})
            return purged
