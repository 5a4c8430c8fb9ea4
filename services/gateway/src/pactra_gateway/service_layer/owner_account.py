"""The owner's account (api.md, "Account"): see and correct it, confirm an email address
through a mailed link, and recover access through a verified address.

Links mailed to the owner carry a token: 32 random bytes in base64url, like signing tokens.
Only its SHA-256 is kept (``account_tokens``), with one purpose, one use and an expiry; the link
travels to notify sealed (``account_links``), never in clear in an event or a log.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from pactra_contracts.api import AccountOut, AccountOwner, AccountPatch, NewApiKeyOut
from pactra_contracts.events import (
    AccountLinkRequested,
    AccountUpdated,
    Actor,
    Person,
    SealedLink,
    make_event,
)
from pactra_contracts.times import utcnow
from pactra_gateway.adapters import security_log
from pactra_gateway.adapters.models import AccountToken, User, Workspace
from pactra_gateway.domain.errors import EmailTaken, Expired, NotFound
from pactra_gateway.domain.plans import Plan
from pactra_gateway.service_layer.accounts import _new_key, workspace_out
from pactra_gateway.service_layer.unit_of_work import SqlAlchemyGatewayUnitOfWork
from pactra_platform.crypto import SecretBox, b64url, constant_time_equal

VERIFY_EMAIL = "verify_email"
RECOVER = "recover"
# How long a mailed link works (api.md): a day to confirm an address, an hour to recover.
LIFETIMES = {VERIFY_EMAIL: timedelta(hours=24), RECOVER: timedelta(hours=1)}
PAGES = {VERIFY_EMAIL: "confirm-email", RECOVER: "recover"}
EVENT_TYPES = {VERIFY_EMAIL: "account.email_verification_requested",
               RECOVER: "account.recovery_requested"}
# The sealing key's purpose; notify opens with the same one (pactra_notify.adapters.links).
ACCOUNT_LINK_PURPOSE = "account-links"
# Who acts through an emailed link: whoever holds the owner's mailbox.
MAILBOX_HOLDER = "email_link"


@dataclass(frozen=True)
class Links:
    """What issuing a link needs: where links point, and the key that seals them."""

    public_url: str
    master_key: str
    request_id: str | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def seal_account_link(master_key: str, url: str, user_id: str) -> str:
    """The link as it may travel in an event: AES-GCM under the account-link key, bound to
    the user it was made for."""
    return b64url(SecretBox(master_key, ACCOUNT_LINK_PURPOSE).seal(url.encode(), user_id.encode()))


def issue_link(uow: SqlAlchemyGatewayUnitOfWork, user: User, purpose: str, email: str, reason: str,
               links: Links, actor: Actor) -> None:
    """A new single-use token for ``purpose``, and the event asking notify to mail its link
    to ``email`` (in the caller's transaction)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    expires_at = now + LIFETIMES[purpose]
    uow.session.add(AccountToken(token_hash=token_hash(token), purpose=purpose, user_id=user.id,
                                 workspace_id=user.workspace_id, email=email, created_at=now,
                                 expires_at=expires_at))
    url = f"{links.public_url.rstrip('/')}/{PAGES[purpose]}/{token}"
    uow.publish(make_event(
        EVENT_TYPES[purpose],
        AccountLinkRequested(user_id=user.id, name=user.name, email=email,
                             link=SealedLink(sealed=seal_account_link(links.master_key, url, user.id)),
                             expires_at=expires_at, reason=reason),
        producer="gateway", workspace_id=user.workspace_id, correlation_id=links.request_id,
        actor=actor,
    ))


def _owner(uow: SqlAlchemyGatewayUnitOfWork, workspace_id: str, *, lock: bool = False) -> User:
    query = select(User).where(User.workspace_id == workspace_id, User.role == "owner")
    user = uow.session.scalar(query.with_for_update() if lock else query)
    if user is None:
        raise NotFound(workspace_id)
    return user


def account_out(workspace: Workspace, plan: Plan, user: User, max_upload_bytes: int) -> AccountOut:
    return AccountOut(
        workspace=workspace_out(workspace, plan, max_upload_bytes),
        owner=AccountOwner(id=user.id, name=user.name, email=user.email,
                           email_verified=user.email_verified_at is not None,
                           created_at=user.created_at),
        pending_email=user.pending_email,
    )


def _account_updated(uow: SqlAlchemyGatewayUnitOfWork, user: User, links: Links, actor: Actor) -> None:
    uow.publish(make_event(
        "account.updated",
        AccountUpdated(workspace_id=user.workspace_id, owner=Person(name=user.name, email=user.email),
                       email_verified=user.email_verified_at is not None),
        producer="gateway", workspace_id=user.workspace_id, correlation_id=links.request_id,
        actor=actor,
    ))


def get_account(workspace_id: str, uow: SqlAlchemyGatewayUnitOfWork, *, max_upload_bytes: int) -> AccountOut:
    with uow:
        workspace = uow.session.get(Workspace, workspace_id)
        if workspace is None:
            raise NotFound(workspace_id)
        return account_out(workspace, uow.catalogue.get(workspace.plan), _owner(uow, workspace_id),
                           max_upload_bytes)


def update_account(workspace_id: str, patch: AccountPatch, uow: SqlAlchemyGatewayUnitOfWork, *,
                   max_upload_bytes: int, links: Links, actor: Actor) -> AccountOut:
    """A new name applies at once; a new email waits, as ``pending_email``, for its owner to
    follow the link mailed to it (the old address stays the account's until then)."""
    with uow:
        workspace = uow.session.get(Workspace, workspace_id)
        if workspace is None:
            raise NotFound(workspace_id)
        user = _owner(uow, workspace_id, lock=True)
        if patch.name is not None and patch.name != user.name:
            user.name = patch.name
            _account_updated(uow, user, links, actor)
        if patch.email is not None:
            email = patch.email.lower()
            if email == user.email:
                user.pending_email = None  # asking for the current address cancels a change
            elif email != user.pending_email:
                taken = uow.session.scalar(select(User.id).where(User.email == email))
                if taken:
                    raise EmailTaken(email)
                user.pending_email = email
                issue_link(uow, user, VERIFY_EMAIL, email, "change", links, actor)
        uow.commit()
        return account_out(workspace, uow.catalogue.get(workspace.plan), user, max_upload_bytes)


def resend_verification(workspace_id: str, uow: SqlAlchemyGatewayUnitOfWork, *, links: Links,
                        actor: Actor) -> None:
    """A fresh link to the address awaiting confirmation (the pending one, else the account's
    own while it is unverified); nothing when there is none."""
    with uow:
        user = _owner(uow, workspace_id, lock=True)
        if user.pending_email:
            issue_link(uow, user, VERIFY_EMAIL, user.pending_email, "change", links, actor)
        elif user.email_verified_at is None:
            issue_link(uow, user, VERIFY_EMAIL, user.email, "resend", links, actor)
        uow.commit()


def _redeem(uow: SqlAlchemyGatewayUnitOfWork, token: str, purpose: str) -> AccountToken:
    """The token's row, locked and marked used; ``NotFound`` for an unknown, used or
    other-purpose token, ``Expired`` for an expired one."""
    digest = token_hash(token)
    row = uow.session.scalar(select(AccountToken).where(AccountToken.token_hash == digest)
                             .with_for_update())
    if row is None or row.purpose != purpose or row.used_at is not None \
            or not constant_time_equal(row.token_hash, digest):
        raise NotFound("token")
    if row.expires_at <= utcnow():
        raise Expired("token")
    row.used_at = utcnow()
    return row


def confirm_email(token: str, uow: SqlAlchemyGatewayUnitOfWork, *, links: Links,
                  actor: Actor) -> tuple[str, bool]:
    """Confirm the address the token was mailed to: the account's own (verifying it) or a
    pending new one (which becomes the account's, verified). Returns (email, verified)."""
    with uow:
        row = _redeem(uow, token, VERIFY_EMAIL)
        user = uow.session.get(User, row.user_id, with_for_update=True)
        if user is None:
            raise NotFound("token")
        now = utcnow()
        if row.email == user.pending_email:
            previous = user.email
            user.email = row.email
            user.pending_email = None
            user.email_verified_at = now
            try:
                uow.session.flush()
            except IntegrityError as exc:
                # Another account took the address between the change and its confirmation.
                raise EmailTaken(row.email) from exc
            security_log.record(uow, user.workspace_id, "email.changed", actor, actor.ip,
                                {"email": user.email, "previous_email": previous})
            security_log.record(uow, user.workspace_id, "email.verified", actor, actor.ip,
                                {"email": user.email})
            _account_updated(uow, user, links, actor)
        elif row.email == user.email:
            if user.email_verified_at is None:
                user.email_verified_at = now
                security_log.record(uow, user.workspace_id, "email.verified", actor, actor.ip,
                                    {"email": user.email})
                _account_updated(uow, user, links, actor)
        else:
            # Mailed to an address the account no longer has, or no longer wants: a later
            # change superseded it. Spent all the same, so it cannot come back.
            uow.commit()
            raise NotFound("token")
        uow.commit()
        return user.email, True


def request_recovery(email: str, uow: SqlAlchemyGatewayUnitOfWork, *, links: Links, actor: Actor) -> None:
    """Mail a recovery link when ``email`` is a verified owner's; otherwise do nothing. The
    caller answers 202 either way."""
    with uow:
        user = uow.session.scalar(select(User).where(User.email == email.lower(),
                                                     User.role == "owner"))
        if user is None or user.email_verified_at is None:
            return
        issue_link(uow, user, RECOVER, user.email, "recovery", links, actor)
        uow.commit()


def redeem_recovery(token: str, uow: SqlAlchemyGatewayUnitOfWork, *, actor: Actor) -> NewApiKeyOut:
    """A new API key for the workspace whose owner followed the recovery link (once); the
    workspace's other keys stay as they were."""
    with uow:
        row = _redeem(uow, token, RECOVER)
        stamp = utcnow().strftime("%Y-%m-%d %H:%M UTC")
        key = _new_key(uow, row.workspace_id, f"Recovered {stamp}")
        security_log.record(uow, row.workspace_id, "api_key.created", actor, actor.ip,
                            {"key_id": key.id, "prefix": key.prefix, "via": "recovery"})
        uow.commit()
        return key

