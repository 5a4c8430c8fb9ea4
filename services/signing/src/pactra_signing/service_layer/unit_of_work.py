"""The unit of work the signing handlers are written against: its repositories, its outbox
(``publish``), its inbox (``claim``), and one transaction (``commit``; anything not committed
is rolled back when the ``with`` block ends). ``SqlUnitOfWork`` is the real one; the unit tests
pass an in-memory fake (tests/unit/fakes.py)."""

from datetime import datetime
from typing import Protocol

from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork
from pactra_platform.unit_of_work import UnitOfWork as PlatformUnitOfWork

from ..adapters.repository import SqlAgreementRepository, SqlRetentionPolicies, SqlSenderRepository
from ..domain.agreement import Agreement, Signer
from ..domain.workspace import Sender


class AgreementRepository(Protocol):
    def add(self, agreement: Agreement) -> None: ...

    def delete(self, agreement: Agreement) -> None: ...

    def get(self, workspace_id: str, agreement_id: str, *, lock: bool = False,
            livemode: bool | None = None) -> Agreement:
        """The agreement, or ``NotFound`` (also for one of the other mode, given ``livemode``)."""
        ...

    def by_token_hash(self, token_hash: str, *, lock: bool = False) -> Agreement | None: ...

    def row_only(self, workspace_id: str, agreement_id: str) -> Agreement | None:
        """The agreement's own row, locked, without its signers and fields."""
        ...

    def signer_row(self, workspace_id: str, agreement_id: str, signer_id: str) -> Signer | None: ...

    def signer_emails(self, workspace_id: str, agreement_id: str, livemode: bool | None) -> set[str]: ...

    def due_to_expire(self, now: datetime, limit: int) -> list[Agreement]: ...

    def due_for_retention(self, now: datetime, limit: int) -> list[Agreement]: ...

    def invitations_since(self, workspace_id: str, since: datetime) -> tuple[int, datetime | None]:
        """Signers the workspace invited after ``since`` and the oldest such invitation; holds
        the workspace's count until the transaction ends."""
        ...


class SenderRepository(Protocol):
    def get(self, workspace_id: str, *, lock: bool = False) -> Sender | None: ...

    def add(self, sender: Sender) -> None: ...


class RetentionPolicies(Protocol):
    def note(self, workspace_id: str, retention_days: int | None, as_of: datetime) -> None: ...


class UnitOfWork(PlatformUnitOfWork, Protocol):
    agreements: AgreementRepository
    senders: SenderRepository
    retention_policies: RetentionPolicies


class SqlUnitOfWork(SqlAlchemyUnitOfWork):
    agreements: SqlAgreementRepository
    senders: SqlSenderRepository
    retention_policies: SqlRetentionPolicies

    def _start(self) -> None:
        self.agreements = SqlAgreementRepository(self.session)
        self.senders = SqlSenderRepository(self.session)
        self.retention_policies = SqlRetentionPolicies(self.session)
