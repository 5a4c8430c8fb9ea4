"""The signing service's repositories over SQLAlchemy: every statement the service layer needs,
named for what it finds. ``service_layer/unit_of_work.py`` declares them abstractly (and the unit
tests' fakes keep them in memory)."""

from datetime import datetime

from sqlalchemy import DateTime, func, literal, select, text, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, raiseload

from ..domain.agreement import ENDED, Agreement, Signer
from ..domain.errors import NotFound
from ..domain.workspace import RetentionPolicy, Sender
from . import orm  # noqa: F401 - maps the domain's classes before the first query

# Advisory-lock class of the per-workspace daily count (two sends never both take the last
# places).
CAP_LOCK_CLASS = 1_516_016


class SqlAgreementRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, agreement: Agreement) -> None:
        self.session.add(agreement)

    def delete(self, agreement: Agreement) -> None:
        # Its signers and fields go with it (cascade).
        self.session.delete(agreement)

    def get(self, workspace_id: str, agreement_id: str, *, lock: bool = False,
            livemode: bool | None = None) -> Agreement:
        """The workspace's agreement; with ``livemode``, only one of that mode (a test key's
        request never reaches a live agreement, nor a live key's a test one: 404 either way)."""
        query = select(Agreement).where(Agreement.id == agreement_id, Agreement.workspace_id == workspace_id)
        if livemode is not None:
            query = query.where(Agreement.livemode == livemode)
        agreement = self.session.scalar(query.with_for_update() if lock else query)
        if agreement is None:
            raise NotFound(agreement_id)
        return agreement

    def by_token_hash(self, token_hash: str, *, lock: bool = False) -> Agreement | None:
        """The agreement of the signer whose token has this hash (locked with ``lock``).

        One statement finds the agreement through its signer's token hash and locks it; its
        signers are read after that (they load "selectin"), so the signer is as fresh as the lock."""
        query = select(Agreement).join(Signer, Signer.agreement_id == Agreement.id).where(
            Signer.token_hash == token_hash)
        return self.session.scalar(query.with_for_update(of=Agreement) if lock else query)

    def row_only(self, workspace_id: str, agreement_id: str) -> Agreement | None:
        """The agreement's own row, locked; its signers and fields (which load "selectin",
        signature images and all) are not read, and may not be."""
        return self.session.scalar(select(Agreement).where(
            Agreement.id == agreement_id, Agreement.workspace_id == workspace_id)
            .options(raiseload("*")).with_for_update())

    def signer_row(self, workspace_id: str, agreement_id: str, signer_id: str) -> Signer | None:
        """A signer of an agreement of the workspace, its row alone, locked."""
        return self.session.scalar(
            select(Signer).join(Agreement, Agreement.id == Signer.agreement_id)
            .where(Signer.id == signer_id, Signer.agreement_id == agreement_id,
                   Agreement.workspace_id == workspace_id)
            .options(raiseload("*")).with_for_update(of=Signer))

    def signer_emails(self, workspace_id: str, agreement_id: str, livemode: bool | None) -> set[str]:
        """The addresses of the agreement's signers (none: no such agreement)."""
        return set(self.session.scalars(select(Signer.email).join(Agreement).where(
            Agreement.id == agreement_id, Agreement.workspace_id == workspace_id,
            Agreement.livemode == livemode if livemode is not None else true())))

    def due_to_expire(self, now: datetime, limit: int) -> list[Agreement]:
        """Sent agreements whose time has passed, oldest first, locked; rows another worker
        holds are skipped."""
        return list(self.session.scalars(
            select(Agreement)
            .where(Agreement.status == "sent", Agreement.expires_at <= now)
            .order_by(Agreement.expires_at).limit(limit).with_for_update(skip_locked=True)))

    def due_for_retention(self, now: datetime, limit: int) -> list[Agreement]:
        """Agreements ended more than their workspace's ``retention_days`` ago whose evidence
        is settled, locked with ``SKIP LOCKED`` (replicas split the work)."""
        cutoff = (literal(now, DateTime(timezone=True))
                  - func.make_interval(0, 0, 0, RetentionPolicy.retention_days))
        return list(self.session.scalars(
            select(Agreement)
            .join(RetentionPolicy, RetentionPolicy.workspace_id == Agreement.workspace_id)
            .where(RetentionPolicy.retention_days.is_not(None),
                   Agreement.status.in_(ENDED), Agreement.evidence_status != "issuing",
                   # "Ended more than retention_days ago": the boundary itself is not yet due.
                   Agreement.ended_at < cutoff)
            .order_by(Agreement.ended_at).limit(limit)
            .with_for_update(of=Agreement, skip_locked=True)))

    def invitations_since(self, workspace_id: str, since: datetime) -> tuple[int, datetime | None]:
        """How many signers the workspace invited after ``since``, and the oldest of those
        invitations; locks the workspace's count until the transaction ends."""
        self.session.execute(text("SELECT pg_advisory_xact_lock(:class, hashtext(:workspace))"),
                             {"class": CAP_LOCK_CLASS, "workspace": workspace_id})
        recent = select(Signer.invited_at).join(Agreement, Agreement.id == Signer.agreement_id).where(
            Agreement.workspace_id == workspace_id, Signer.invited_at > since)
        used = self.session.scalar(select(func.count()).select_from(recent.subquery())) or 0
        if not used:
            return 0, None
        oldest = self.session.scalar(select(func.min(Signer.invited_at)).join(
            Agreement, Agreement.id == Signer.agreement_id).where(
            Agreement.workspace_id == workspace_id, Signer.invited_at > since))
        return used, oldest


class SqlSenderRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, workspace_id: str, *, lock: bool = False) -> Sender | None:
        return self.session.get(Sender, workspace_id, with_for_update=lock or None)

    def add(self, sender: Sender) -> None:
        self.session.add(sender)


class SqlRetentionPolicies:
    def __init__(self, session: Session) -> None:
        self.session = session

    def note(self, workspace_id: str, retention_days: int | None, as_of: datetime) -> None:
        """Record a workspace's ``retention_days`` (a ``workspace.updated``); an update older
        than the one applied (events arrive in any order) changes nothing."""
        statement = insert(RetentionPolicy).values(workspace_id=workspace_id,
                                                   retention_days=retention_days, as_of=as_of)
        self.session.execute(statement.on_conflict_do_update(
            index_elements=[RetentionPolicy.workspace_id],
            set_={"retention_days": statement.excluded.retention_days, "as_of": statement.excluded.as_of},
            where=RetentionPolicy.as_of < statement.excluded.as_of))
