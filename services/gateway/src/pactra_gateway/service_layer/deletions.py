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
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Result, delete, select, text, update
from sqlalchemy.orm import Session

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
from pactra_gateway import SERVICE
from pactra_gateway.adapters import security_log
from pactra_gateway.adapters.models import ApiKey, User, Workspace, WorkspaceDeletion
from pactra_gateway.domain import deletions as rules
from pactra_gateway.domain.errors import NotFound
from pactra_gateway.service_layer.owner_account import Links, seal_account_link
from pactra_gateway.service_layer.unit_of_work import GatewayUnitOfWork, SqlAlchemyGatewayUnitOfWork
from pactra_platform import erasure

log = logging.getLogger(__name__)
# The saga's clock publishes at most this many purge requests per transaction.
BATCH = 100


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def status_out(deletion: WorkspaceDeletion, public_url: str) -> dict[str, object]:
    return {
        "deletion_id": deletion.id, "id": deletion.id, "status": deletion.status,
        "status_url": f"{public_url.rstrip('/')}/v1/deletions/{deletion.id}",
        "services": dict(deletion.services),
        "purge_at": format_time(deletion.purge_at) if deletion.purge_at else None,
        "completed_at": format_time(deletion.completed_at) if deletion.completed_at else None,
    }


def request_deletion(workspace_id: str, confirm: str, uow: SqlAlchemyGatewayUnitOfWork, *,
                     links: Links, actor: Actor, grace_hours: float) -> WorkspaceDeletion:
    with uow:
        workspace = uow.session.get(Workspace, workspace_id, with_for_update=True)
        owner = uow.session.scalar(select(User).where(User.workspace_id == workspace_id,
                                                      User.role == "owner"))
        if workspace is None or owner is None:
            raise NotFound(workspace_id)
        confirmed = uow.session.scalar(select(WorkspaceDeletion.id).where(
            WorkspaceDeletion.workspace_id == workspace_id,
            WorkspaceDeletion.status.in_(rules.CONFIRMED)))
        rules.check_request(workspace.name, confirm, owner_verified=owner.email_verified_at is not None,
                            confirmed_id=confirmed)
        now = utcnow()
        # An earlier request not yet confirmed is superseded: only the newest link works.
        uow.session.execute(update(WorkspaceDeletion).where(
            WorkspaceDeletion.workspace_id == workspace_id,
            WorkspaceDeletion.status == rules.AWAITING_CONFIRMATION).values(
                status=rules.CANCELLED, cancelled_at=now))
        token = secrets.token_urlsafe(32)
        deletion = WorkspaceDeletion(
            id="del_" + secrets.token_urlsafe(32).replace("-", "x").replace("_", "y"),
            workspace_id=workspace_id, workspace_sha256=erasure.workspace_hash(workspace_id),
            token_hash=_hash(token), status=rules.AWAITING_CONFIRMATION, requested_at=now,
            confirm_by=now + rules.CONFIRM_WITHIN, services=dict.fromkeys(SERVICES, rules.PENDING),
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
        raise NotFound(token[:4])
    return deletion


def confirm(token: str, uow: SqlAlchemyGatewayUnitOfWork, *, grace_hours: float,
            request_id: str | None) -> WorkspaceDeletion:
    """Revoke every key now; start the purge after the grace period (at once with 0)."""
    with uow:
        deletion = _by_token(uow.session, token)
        now = utcnow()
        if not rules.needs_confirming(deletion.status, deletion.confirm_by, now):
            return deletion  # confirmed already: the same answer again
        keys = uow.session.scalars(select(ApiKey).where(
            ApiKey.workspace_id == deletion.workspace_id, ApiKey.revoked_at.is_(None))
            .with_for_update()).all()
        for key in keys:
            key.revoked_at = now
        deletion.revoked_key_ids = [key.id for key in keys]
        deletion.status = rules.SCHEDULED
        deletion.confirmed_at = now
        deletion.purge_at = rules.purge_at(now, grace_hours)
        if grace_hours == 0:
            _start(uow, deletion, request_id)
        uow.commit()
        log.info("workspace deletion confirmed", extra={"deletion_id": deletion.id,
                                                        "keys_revoked": len(keys)})
        return deletion


def cancel(token: str, uow: SqlAlchemyGatewayUnitOfWork) -> WorkspaceDeletion:
    """Until the purge starts: the deletion is cancelled and the keys it revoked come back."""
    with uow:
        deletion = _by_token(uow.session, token)
        if not rules.needs_cancelling(deletion.status):
            return deletion
        if deletion.revoked_key_ids:
            uow.session.execute(update(ApiKey).where(ApiKey.id.in_(deletion.revoked_key_ids))
                                .values(revoked_at=None))
        deletion.status = rules.CANCELLED
        deletion.cancelled_at = utcnow()
        uow.commit()
        return deletion


def get(deletion_id: str, uow: GatewayUnitOfWork) -> WorkspaceDeletion:
    with uow:
        deletion = uow.deletions.get(deletion_id[:64])
        if deletion is None:
            raise NotFound(deletion_id[:8])
        return deletion


def _start(uow: GatewayUnitOfWork, deletion: WorkspaceDeletion, request_id: str | None) -> None:
    """Publish the purge request (again, for a retry: a new event id)."""
    assert deletion.workspace_id is not None
    deletion.status = rules.RUNNING
    deletion.published_at = utcnow()
    uow.publish(make_event(
        erasure.DELETION_REQUESTED,
        WorkspaceDeletionRequested(workspace_id=deletion.workspace_id, deletion_id=deletion.id),
        producer=SERVICE, workspace_id=deletion.workspace_id, correlation_id=request_id))


def advance(uow: GatewayUnitOfWork, retry_after: timedelta) -> int:
    """The saga's clock (a periodic job; replicas skip each other's rows): start the purges
    whose grace ended, and ask stragglers again. Returns how many requests were published."""
    now = utcnow()
    published = 0
    with uow:
        for deletion in uow.deletions.due(now, now - retry_after, BATCH):
            if deletion.status == rules.RUNNING:
                log.warning("deletion saga: asking stragglers again",
                            extra={"deletion_id": deletion.id,
                                   "services": rules.stragglers(deletion.services)})
            _start(uow, deletion, None)
            published += 1
        uow.commit()
    return published


def on_workspace_purged(event: Event[WorkspacePurged], uow: GatewayUnitOfWork) -> None:
    """A service's report of its purge moves the saga on; the last one completes it."""
    data = event.payload()
    deletion = uow.deletions.get(data.deletion_id, lock=True)
    if deletion is None or deletion.status == rules.COMPLETED:
        return
    deletion.services, done = rules.report_purge(deletion.services, data.service)
    deletion.counts = {**deletion.counts, data.service: data.counts}
    if done:
        deletion.status = rules.COMPLETED
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
    return _rowcount(session.execute(ANONYMISE_STATEMENTS, {
        "ws": workspace_id, "pseudonym": statement_pseudonym(workspace_id)}))


def _rowcount(result: Result[Any]) -> int:
    # An UPDATE's or DELETE's result is a CursorResult, which has it.
    return int(cast(CursorResult[Any], result).rowcount)


def on_deletion_requested(event: Event[WorkspaceDeletionRequested],
                          uow: SqlAlchemyGatewayUnitOfWork) -> None:
    """The gateway's own part of the purge: workspace, users, keys, tokens, security log,
    idempotency records, usage; statements are kept, anonymised; the deletion row stays."""
    request = erasure.purge_request(event)
    session = uow.session
    counts = erasure.begin_purge(session, request.workspace_id)
    counts["statements_anonymised"] = anonymise_statements(session, request.workspace_id)
    counts |= erasure.purge_workspace_rows(session, request.workspace_id,
                                           keep=frozenset({"workspace_deletions", "statements"}))
    # The workspace row itself (its key is ``id``) goes last: users and keys reference it.
    counts["workspaces"] = _rowcount(session.execute(
        delete(Workspace).where(Workspace.id == request.workspace_id)
        .execution_options(synchronize_session=False)))
    erasure.report_purged(session, event, SERVICE, counts)
