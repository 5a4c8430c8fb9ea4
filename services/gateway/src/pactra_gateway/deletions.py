"""Deleting a workspace (api.md, "Deletion and retention"): the request, the owner's
confirmation by email, the grace period, and the saga that has every service purge it.

A leaked key must not be enough to destroy a workspace: ``DELETE /v1/workspace`` only mails
the owner's verified address a link (a 32-byte token, kept as its SHA-256, the link sealed in
the event like every account link). Confirming revokes every key of the workspace at once;
the purge starts ``PACTRA_DELETION_GRACE_HOURS`` later, until when the same link cancels it
(and gives the keys back). Then the gateway publishes ``workspace.deletion_requested``; each
service (the gateway included) purges what it owns and answers ``workspace.purged``; a service
that has not answered after ``PACTRA_DELETION_RETRY_SECONDS`` is asked again (a new event:
the old one may be dead-lettered or still queued for a stopped worker; purging is
idempotent). Once all have answered, the deletion is ``completed`` and its row forgets the
workspace id (it keeps the id's SHA-256).
"""

import hashlib
import logging
import secrets
from datetime import datetime, timedelta

from sqlalchemy import DateTime, String, func, select, text, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, Session, mapped_column

from pactra_contracts.events import (
    Actor,
    DeletionLinkRequested,
    Event,
    SealedLink,
    WorkspaceDeletionRequested,
    WorkspacePurged,
    make_event,
)
from pactra_contracts.services import SERVICES
from pactra_contracts.times import format_time, utcnow
from pactra_platform import erasure
from pactra_platform.db import Base
from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork

from . import security_log
from .models import ApiKey, User, Workspace
from .owner_account import Links, seal_account_link

log = logging.getLogger(__name__)
SERVICE = "gateway"
# How long the mailed link confirms (cancelling works until the purge starts).
CONFIRM_WITHIN = timedelta(hours=24)
ACTIVE = ("awaiting_confirmation", "scheduled", "running")


class WorkspaceDeletion(Base):
    __tablename__ = "workspace_deletions"

    # del_ + 32 random bytes: the status URL needs no key, so its id is the capability.
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Set until the deletion completes; then only its SHA-256 is kept.
    workspace_id: Mapped[str | None] = mapped_column(String(40), index=True)
    workspace_sha256: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(30))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirm_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    purge_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # service -> "pending" | "purged"; and what each reported it purged.
    services: Mapped[dict] = mapped_column(JSONB)
    counts: Mapped[dict] = mapped_column(JSONB)
    # The keys the confirmation revoked: a cancellation gives back exactly these.
    revoked_key_ids: Mapped[list] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class NameMismatch(Exception):
    pass


class Unverified(Exception):
    pass


class Conflict(Exception):
    pass


class Unknown(Exception):
    pass


class Expired(Exception):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def status_out(deletion: WorkspaceDeletion, public_url: str) -> dict:
    return {
        "deletion_id": deletion.id, "id": deletion.id, "status": deletion.status,
        "status_url": f"{public_url.rstrip('/')}/v1/deletions/{deletion.id}",
        "services": dict(deletion.services),
        "purge_at": format_time(deletion.purge_at) if deletion.purge_at else None,
        "completed_at": format_time(deletion.completed_at) if deletion.completed_at else None,
    }


def request_deletion(workspace_id: str, confirm: str, uow: SqlAlchemyUnitOfWork, *, links: Links,
                     actor: Actor, grace_hours: float) -> WorkspaceDeletion:
    with uow:
        workspace = uow.session.get(Workspace, workspace_id, with_for_update=True)
        owner = uow.session.scalar(select(User).where(User.workspace_id == workspace_id,
                                                      User.role == "owner"))
        if workspace is None or owner is None:
            raise Unknown(workspace_id)
        if confirm != workspace.name:
            raise NameMismatch(workspace.name)
        if owner.email_verified_at is None:
            raise Unverified(owner.id)
        now = utcnow()
        running = uow.session.scalar(select(WorkspaceDeletion).where(
            WorkspaceDeletion.workspace_id == workspace_id,
            WorkspaceDeletion.status.in_(("scheduled", "running"))))
        if running is not None:
            raise Conflict(running.id)
        # An earlier request not yet confirmed is superseded: only the newest link works.
        uow.session.execute(update(WorkspaceDeletion).where(
            WorkspaceDeletion.workspace_id == workspace_id,
            WorkspaceDeletion.status == "awaiting_confirmation").values(status="cancelled",
                                                                        cancelled_at=now))
        token = secrets.token_urlsafe(32)
        deletion = WorkspaceDeletion(
            id="del_" + secrets.token_urlsafe(32).replace("-", "x").replace("_", "y"),
            workspace_id=workspace_id, workspace_sha256=erasure.workspace_hash(workspace_id),
            token_hash=_hash(token), status="awaiting_confirmation", requested_at=now,
            confirm_by=now + CONFIRM_WITHIN, services={s: "pending" for s in SERVICES},
            counts={}, revoked_key_ids=[])
        uow.session.add(deletion)
        url = f"{links.public_url.rstrip('/')}/confirm-deletion/{token}"
        uow.publish(make_event(
            "account.deletion_confirmation_requested",
            DeletionLinkRequested(user_id=owner.id, name=owner.name, email=owner.email,
                                  workspace_name=workspace.name,
                                  link=SealedLink(sealed=seal_account_link(links.master_key, url, owner.id)),
                                  expires_at=deletion.confirm_by, grace_hours=int(grace_hours)),
            producer=SERVICE, workspace_id=workspace_id, correlation_id=links.request_id,
            actor=actor))
        security_log.record(uow, workspace_id, "workspace.deletion_requested", actor, actor.ip,
                            {"deletion_id": deletion.id})
        uow.commit()
        return deletion


def _by_token(session: Session, token: str) -> WorkspaceDeletion:
    deletion = session.scalar(select(WorkspaceDeletion).where(
        WorkspaceDeletion.token_hash == _hash(token)).with_for_update())
    if deletion is None:
        raise Unknown(token[:4])
    return deletion


def confirm(token: str, uow: SqlAlchemyUnitOfWork, *, grace_hours: float,
            request_id: str | None) -> WorkspaceDeletion:
    """Revoke every key now; start the purge after the grace period (at once with 0)."""
    with uow:
        deletion = _by_token(uow.session, token)
        if deletion.status != "awaiting_confirmation":
            if deletion.status == "cancelled":
                raise Conflict(deletion.id)
            return deletion  # confirmed already: the same answer again
        now = utcnow()
        if now > deletion.confirm_by:
            raise Expired(deletion.id)
        keys = uow.session.scalars(select(ApiKey).where(
            ApiKey.workspace_id == deletion.workspace_id, ApiKey.revoked_at.is_(None))
            .with_for_update()).all()
        for key in keys:
            key.revoked_at = now
        deletion.revoked_key_ids = [key.id for key in keys]
        deletion.status = "scheduled"
        deletion.confirmed_at = now
        deletion.purge_at = now + timedelta(hours=grace_hours)
        if grace_hours == 0:
            _start(uow, deletion, request_id)
        uow.commit()
        log.info("workspace deletion confirmed", extra={"deletion_id": deletion.id,
                                                        "keys_revoked": len(keys)})
        return deletion


def cancel(token: str, uow: SqlAlchemyUnitOfWork) -> WorkspaceDeletion:
    """Until the purge starts: the deletion is cancelled and the keys it revoked come back."""
    with uow:
        deletion = _by_token(uow.session, token)
        if deletion.status == "cancelled":
            return deletion
        if deletion.status not in ("awaiting_confirmation", "scheduled"):
            raise Conflict(deletion.id)
        if deletion.revoked_key_ids:
            uow.session.execute(update(ApiKey).where(ApiKey.id.in_(deletion.revoked_key_ids))
                                .values(revoked_at=None))
        deletion.status = "cancelled"
        deletion.cancelled_at = utcnow()
        uow.commit()
        return deletion


def get(deletion_id: str, uow: SqlAlchemyUnitOfWork) -> WorkspaceDeletion:
    with uow:
        deletion = uow.session.get(WorkspaceDeletion, deletion_id[:64])
        if deletion is None:
            raise Unknown(deletion_id[:8])
        return deletion


def _start(uow: SqlAlchemyUnitOfWork, deletion: WorkspaceDeletion, request_id: str | None) -> None:
    """Publish the purge request (again, for a retry: a new event id)."""
    assert deletion.workspace_id is not None
    deletion.status = "running"
    deletion.published_at = utcnow()
    uow.publish(make_event(
        erasure.DELETION_REQUESTED,
        WorkspaceDeletionRequested(workspace_id=deletion.workspace_id, deletion_id=deletion.id),
        producer=SERVICE, workspace_id=deletion.workspace_id, correlation_id=request_id))


def advance(uow: SqlAlchemyUnitOfWork, retry_after: timedelta) -> int:
    """The saga's clock (a periodic job; replicas skip each other's rows): start the purges
    whose grace ended, and ask stragglers again. Returns how many requests were published."""
    now = utcnow()
    published = 0
    with uow:
        due = uow.session.scalars(select(WorkspaceDeletion).where(
            ((WorkspaceDeletion.status == "scheduled") & (WorkspaceDeletion.purge_at <= now))
            | ((WorkspaceDeletion.status == "running")
               & (WorkspaceDeletion.published_at <= now - retry_after)))
            .limit(100).with_for_update(skip_locked=True)).all()
        for deletion in due:
            if deletion.status == "running":
                stragglers = [s for s, state in deletion.services.items() if state != "purged"]
                log.warning("deletion saga: asking stragglers again",
                            extra={"deletion_id": deletion.id, "services": stragglers})
            _start(uow, deletion, None)
            published += 1
        uow.commit()
    return published


def on_workspace_purged(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    data = event.payload()
    assert isinstance(data, WorkspacePurged)
    deletion = uow.session.get(WorkspaceDeletion, data.deletion_id, with_for_update=True)
    if deletion is None or deletion.status == "completed":
        return
    services = dict(deletion.services)
    services[data.service] = "purged"
    deletion.services = services
    deletion.counts = {**deletion.counts, data.service: data.counts}
    if all(state == "purged" for state in services.values()):
        deletion.status = "completed"
        deletion.completed_at = utcnow()
        deletion.workspace_id = None
        deletion.revoked_key_ids = []
        log.info("workspace deletion completed", extra={"deletion_id": deletion.id,
                                                        "counts": deletion.counts})


def statement_pseudonym(workspace_id: str) -> str:
    """What a frozen statement is filed under once its workspace is gone: a stable
    pseudonym (accounting keeps the numbers; nobody can read a workspace or a person in it)."""
    return "wsd_" + erasure.workspace_hash(workspace_id)[:36]


# Frozen billing statements are accounting records: kept, filed under a pseudonym, and
# without the workspace's name (they name no person). Their accounting retention is the
# billing owner's to enforce.
ANONYMISE_STATEMENTS = text(
    "UPDATE statements SET workspace_id = CAST(:pseudonym AS text), body = jsonb_set(jsonb_set(body,"
    " '{workspace_id}', to_jsonb(CAST(:pseudonym AS text))), '{workspace_name}',"
    " '\"(deleted workspace)\"') WHERE workspace_id = :ws")


def anonymise_statements(session: Session, workspace_id: str) -> int:
    return session.execute(ANONYMISE_STATEMENTS, {"ws": workspace_id,
                                                  "pseudonym": statement_pseudonym(workspace_id)}).rowcount


def on_deletion_requested(event: Event, uow: SqlAlchemyUnitOfWork) -> None:
    """The gateway's own part of the purge: workspace, users, keys, tokens, security log,
    idempotency records, usage; statements are kept, anonymised; the deletion row stays."""
    request = erasure.purge_request(event)
    session = uow.session
    counts = erasure.begin_purge(session, request.workspace_id)
    counts["statements_anonymised"] = anonymise_statements(session, request.workspace_id)
    counts |= erasure.purge_workspace_rows(session, request.workspace_id,
                                           keep=frozenset({"workspace_deletions", "statements"}))
    # The workspace row itself (its key is ``id``) goes last: users and keys reference it.
    counts["workspaces"] = session.execute(
        Workspace.__table__.delete().where(Workspace.id == request.workspace_id)).rowcount
    erasure.report_purged(session, event, SERVICE, counts)
