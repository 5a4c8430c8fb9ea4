"""Workspaces, users and API keys: signup, settings, key life-cycle, authentication."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, select, true, update
from sqlalchemy.exc import IntegrityError

from pactra_contracts.api import (
    ApiKeyOut,
    NewApiKeyOut,
    SignupOut,
    SignupRequest,
    UserOut,
    WorkspaceOut,
    WorkspacePatch,
)
from pactra_contracts.events import Actor, Person, WorkspaceCreated, WorkspaceUpdated, make_event
from pactra_contracts.ids import new_id
from pactra_contracts.times import utcnow
from pactra_gateway.adapters import security_log
from pactra_gateway.adapters.models import ApiKey, User, Workspace
from pactra_gateway.domain import api_keys, quotas
from pactra_gateway.domain.errors import EmailTaken, NotFound
from pactra_gateway.domain.plans import Plan
from pactra_gateway.service_layer.unit_of_work import SqlAlchemyGatewayUnitOfWork
from pactra_platform.crypto import constant_time_equal

if TYPE_CHECKING:
    from pactra_gateway.service_layer.owner_account import Links

# Writing last_used_at on every request would turn each read into a write; a minute's
# precision is what a key list needs.
LAST_USED_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class Caller:
    workspace_id: str
    api_key_id: str
    # The workspace's plan: its keys' rate limit (domain/plans.py). Read with the key, no extra query.
    plan: str = "free"
    # A test key (api.md, "Test mode"): forwarded as the signed X-Pactra-Livemode header.
    livemode: bool = True


def workspace_out(workspace: Workspace, plan: Plan, max_upload_bytes: int) -> WorkspaceOut:
    limits = {"documents_per_month": plan.limits["storage_bytes"] // max(max_upload_bytes, 1),
              "agreements_per_month": plan.limits["agreements_sent"],
              "ai_tokens_per_month": plan.limits["llm_tokens"], **plan.limits,
              "max_upload_bytes": max_upload_bytes}
    return WorkspaceOut(
        id=workspace.id, name=workspace.name, plan=workspace.plan, limits=limits,
        ai_enabled=workspace.ai_enabled, ai_engine=workspace.ai_engine,
        ai_auto_analyze=workspace.ai_auto_analyze, retention_days=workspace.retention_days,
        created_at=workspace.created_at,
    )


def key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.id, name=key.name, prefix=key.prefix, created_at=key.created_at,
        last_used_at=key.last_used_at, revoked_at=key.revoked_at,
        mode=api_keys.mode_of_prefix(key.prefix),
    )


def _new_key(uow: SqlAlchemyGatewayUnitOfWork, workspace_id: str, name: str,
             mode: str = "live") -> NewApiKeyOut:
    secret = api_keys.generate(mode)
    key = ApiKey(
        id=new_id("key"), workspace_id=workspace_id, name=name,
        prefix=api_keys.display_prefix(secret), key_hash=api_keys.hash_key(secret),
        created_at=utcnow(),
    )
    uow.session.add(key)
    return NewApiKeyOut(id=key.id, name=key.name, key=secret, prefix=key.prefix,
                        created_at=key.created_at, mode=mode)


def signup(cmd: SignupRequest, uow: SqlAlchemyGatewayUnitOfWork, *, max_upload_bytes: int,
           request_id: str | None, actor: Actor, links: "Links | None" = None,
           plan: str = "free") -> SignupOut:
    """The workspace, its owner and a first key; with ``links``, the owner's first
    verification link is mailed in the same transaction (api.md: signup sends it)."""
    from pactra_gateway.service_layer import owner_account  # owner_account builds on this module
    email = cmd.email.lower()
    now = utcnow()
    with uow:
        if uow.session.scalar(select(User.id).where(User.email == email)):
            raise EmailTaken(email)
        workspace = Workspace(id=new_id("ws"), name=cmd.workspace_name, plan=plan,
                              ai_enabled=True, ai_engine="offline", ai_auto_analyze=False,
                              created_at=now)
        user = User(id=new_id("usr"), workspace_id=workspace.id, name=cmd.name, email=email,
                    role="owner", created_at=now)
        uow.session.add(workspace)
        uow.session.flush()  # the workspace row must exist before rows that reference it
        uow.session.add(user)
        uow.session.flush()
        key = _new_key(uow, workspace.id, "Default key")
        uow.publish(make_event(
            "workspace.created",
            WorkspaceCreated(workspace_id=workspace.id, name=workspace.name, plan=workspace.plan,
                             owner=Person(name=user.name, email=user.email)),
            producer="gateway", workspace_id=workspace.id, correlation_id=request_id, actor=actor,
        ))
        security_log.record(uow, workspace.id, "api_key.created", actor, actor.ip,
                            {"key_id": key.id, "prefix": key.prefix, "via": "signup"})
        if links is not None:
            owner_account.issue_link(uow, user, owner_account.VERIFY_EMAIL, user.email, "signup",
                                     links, actor)
        try:
            uow.commit()
        except IntegrityError as exc:
            # Two signups with one address raced past the check above; the unique index
            # decided, and this one lost.
            raise EmailTaken(email) from exc
        return SignupOut(
            workspace=workspace_out(workspace, uow.catalogue.get(workspace.plan), max_upload_bytes),
            user=UserOut(id=user.id, name=user.name, email=user.email, role=user.role,
                         created_at=user.created_at),
            api_key=key,
        )


def get_workspace(workspace_id: str, uow: SqlAlchemyGatewayUnitOfWork, *,
                  max_upload_bytes: int) -> WorkspaceOut:
    with uow:
        workspace = uow.session.get(Workspace, workspace_id)
        if workspace is None:
            raise NotFound(workspace_id)
        return workspace_out(workspace, uow.catalogue.get(workspace.plan), max_upload_bytes)


def update_workspace(workspace_id: str, patch: WorkspacePatch, uow: SqlAlchemyGatewayUnitOfWork, *,
                     max_upload_bytes: int, request_id: str | None, actor: Actor) -> WorkspaceOut:
    changes = patch.model_dump(exclude_unset=True)
    with uow:
        workspace = uow.session.get(Workspace, workspace_id, with_for_update=True)
        if workspace is None:
            raise NotFound(workspace_id)
        changed = {}
        for name, value in changes.items():
            if value is None and name != "retention_days":
                continue  # null means "leave as is" for settings that cannot be empty
            if getattr(workspace, name) != value:
                setattr(workspace, name, value)
                changed[name] = value
        if changed:
            uow.publish(make_event(
                "workspace.updated", WorkspaceUpdated(workspace_id=workspace_id, changes=changed),
                producer="gateway", workspace_id=workspace_id, correlation_id=request_id,
                actor=actor,
            ))
        uow.commit()
        return workspace_out(workspace, uow.catalogue.get(workspace.plan), max_upload_bytes)


def create_api_key(workspace_id: str, name: str, uow: SqlAlchemyGatewayUnitOfWork,
                   actor: Actor | None = None, mode: str = "live") -> NewApiKeyOut:
    with uow:
        key = _new_key(uow, workspace_id, name, mode)
        if actor is not None:
            security_log.record(uow, workspace_id, "api_key.created", actor, actor.ip,
                                {"key_id": key.id, "prefix": key.prefix, "name": key.name,
                                 "mode": mode})
        uow.commit()
        return key


def _mode_filter(test_only: bool) -> ColumnElement[bool]:
    """A test key sees only test keys (their display prefix begins with the test prefix)."""
    return ApiKey.prefix.startswith(api_keys.TEST_PREFIX, autoescape=True) if test_only else true()


def list_api_keys(workspace_id: str, uow: SqlAlchemyGatewayUnitOfWork, *, limit: int,
                  starting_after: str | None, test_only: bool = False) -> tuple[list[ApiKeyOut], bool]:
    with uow:
        query = select(ApiKey).where(ApiKey.workspace_id == workspace_id, _mode_filter(test_only))
        if starting_after:
            cursor = uow.session.scalar(
                select(ApiKey).where(ApiKey.id == starting_after, ApiKey.workspace_id == workspace_id,
                                     _mode_filter(test_only))
            )
            if cursor is None:
                raise NotFound(starting_after)
            query = query.where(
                (ApiKey.created_at < cursor.created_at)
                | ((ApiKey.created_at == cursor.created_at) & (ApiKey.id < cursor.id))
            )
        rows = list(uow.session.scalars(
            query.order_by(ApiKey.created_at.desc(), ApiKey.id.desc()).limit(limit + 1)
        ))
        return [key_out(key) for key in rows[:limit]], len(rows) > limit


def revoke_api_key(workspace_id: str, key_id: str, uow: SqlAlchemyGatewayUnitOfWork,
                   actor: Actor | None = None, test_only: bool = False) -> None:
    with uow:
        key = uow.session.scalar(
            select(ApiKey).where(ApiKey.id == key_id, ApiKey.workspace_id == workspace_id,
                                 _mode_filter(test_only))
        )
        if key is None:
            raise NotFound(key_id)  # another workspace's key is as unknown as a made-up one
        if key.revoked_at is None:
            key.revoked_at = utcnow()
            if actor is not None:
                security_log.record(uow, workspace_id, "api_key.revoked", actor, actor.ip,
                                    {"key_id": key.id, "prefix": key.prefix})
        uow.commit()


def authenticate(presented: str, uow: SqlAlchemyGatewayUnitOfWork) -> Caller | None:
    """The workspace behind an API key, or None for a malformed, unknown or revoked key.

    Asked of the database on every request, never remembered: a revoked key must fail from
    the next request in every gateway process (api.md), and one indexed look-up is cheaper
    than keeping processes' caches in step."""
    if not api_keys.well_formed(presented):
        return None
    digest = api_keys.hash_key(presented)
    # One statement on its own (no BEGIN and ROLLBACK round trips, nor a Session around it);
    # the occasional last-used update commits on its own.
    return _caller_of(digest, uow.key_by_hash(digest), lambda key_id: _note_use_in(uow, key_id))


def authenticate_reserving(presented: str, uow: SqlAlchemyGatewayUnitOfWork,
                           ask: quotas.Ask) -> tuple[Caller | None, quotas.Reservation | None]:
    """:func:`authenticate` for a live key's send, its quota decision made in the same round
    trip (usage_counters.KEY_AND_SEND_RESERVED): the look-up already reads the key's workspace
    and plan, which is all the decision needs. The reservation is None when nothing was
    decided: the key is not a live one in force (nothing is reserved for it), no signer count
    is recorded for the agreement, or a limit refused it; the quota gate then decides as for
    any request (and says what refused it, 402). Whoever holds the reservation gives it back
    when the request is refused later, before or after it is forwarded (entrypoints/edge.py)."""
    if not api_keys.well_formed(presented) or api_keys.mode_of_prefix(presented) != "live":
        return authenticate(presented, uow), None
    digest = api_keys.hash_key(presented)
    decided = uow.key_with_send_reserved(digest, ask)
    if decided is None:  # refused: nothing kept, the look-up's answer neither
        return authenticate(presented, uow), None

    caller = _caller_of(digest, decided.key, lambda key_id: _note_use_in(uow, key_id))
    if caller is None or decided.counted is None:
        return caller, None
    return caller, quotas.Reservation(caller.workspace_id, ask.source_id, tuple(decided.counted))


def _caller_of(digest: str, key: Any, note_use: Callable[[str], None]) -> Caller | None:
    """The caller a key's row (api_key_lookup.KeyRow) stands for; its last use noted now and
    then (at most every LAST_USED_PRECISION: a write per request would cost more than it)."""
    if key is None or key.revoked_at is not None:
        return None
    if not constant_time_equal(key.key_hash, digest):
        return None
    if key.last_used_at is None or utcnow() - key.last_used_at > LAST_USED_PRECISION:
        note_use(key.id)
    return Caller(workspace_id=key.workspace_id, api_key_id=key.id, plan=key.plan,
                  livemode=api_keys.mode_of_prefix(key.prefix) == "live")


def _note_use_in(uow: SqlAlchemyGatewayUnitOfWork, key_id: str) -> None:
    with uow:
        conn = uow.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        conn.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=utcnow()))




def workspace_of_key(presented: str, uow: SqlAlchemyGatewayUnitOfWork) -> str | None:
    """The workspace of a well-formed key that exists (revoked or not): whom a lockout that
    this key's failures caused concerns."""
    if not api_keys.well_formed(presented):
        return None
    with uow:
        return uow.session.scalar(select(ApiKey.workspace_id)
                                  .where(ApiKey.key_hash == api_keys.hash_key(presented)))
