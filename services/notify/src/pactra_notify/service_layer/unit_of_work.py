"""The unit of work notify's use cases run in: its repositories, ``publish`` (the outbox),
``claim`` (the inbox), ``commit`` and ``rollback``. The use cases see only :class:`UnitOfWork`;
:class:`SqlAlchemyUnitOfWork` is the real one, on notify's database."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from pactra_platform.unit_of_work import SqlAlchemyUnitOfWork as PlatformUnitOfWork
from pactra_platform.unit_of_work import UnitOfWork as PlatformUnitOfWorkProtocol

from ..adapters import repository
from ..domain.email_outcomes import SentEmail
from ..domain.recipients import Party
from ..domain.test_mode import Owner
from ..domain.webhooks import Delivery, Endpoint


class PartyRepository(Protocol):
    def record(self, parties: Sequence[Party], at: datetime) -> None:
        """Keep each party (a party and address already kept stays as it was)."""
        ...

    def of_agreement(self, agreement_id: str) -> list[Party]: ...


class SignerLinkRepository(Protocol):
    def remember(self, agreement_id: str, signer_id: str, workspace_id: str | None, sealed: str,
                 at: datetime) -> None: ...

    def sealed(self, agreement_id: str, signer_id: str) -> str | None: ...


class OwnerRepository(Protocol):
    def get(self, workspace_id: str) -> Owner | None: ...

    def named(self, owner: Owner) -> None:
        """``workspace.created``: the owner's name and address (whether verified is kept)."""
        ...

    def confirmed(self, owner: Owner) -> None:
        """``account.updated``: events may come in any order, so the newest (by
        ``updated_at``) wins and a late one never undoes a newer one."""
        ...


class EmailLedger(Protocol):
    """Each email sent once per event and recipient. The handler's transaction commits only
    after every email went out, and a crash in between would roll back a record kept in it, so
    the ledger commits each change on its own, at once: a ``pending`` row before sending,
    ``sent`` right after. Only a crash in the instant between the provider's answer and that
    second commit can still send twice."""

    def begin(self, event_id: str, workspace_id: str | None, recipient: str, kind: str,
              agreement_id: str | None, signer_id: str | None) -> str:
        """Record the email (once) and return its status: pending, sent, failed, suppressed."""
        ...

    def statuses(self, event_id: str) -> dict[str, str]:
        """Recipient -> status of the emails already recorded for ``event_id``."""
        ...

    def sent(self, event_id: str, recipient: str, provider_message_id: str, at: datetime) -> None: ...

    def failed(self, event_id: str, recipient: str, error: str) -> None: ...

    def suppressed(self, event_id: str, recipient: str, reason: str) -> None: ...


class SentEmailRepository(Protocol):
    """The ledger's rows as a provider's later report finds them (in this transaction)."""

    def by_provider_id(self, provider_message_id: str) -> SentEmail | None:
        """Locked until the transaction ends, so two reports of it are applied one by one."""
        ...

    def record_outcome(self, email: SentEmail, outcome: str, at: datetime) -> None: ...


class ProviderEventRepository(Protocol):
    def first_time(self, message_id: str, event_type: str, at: datetime, keep: timedelta) -> bool:
        """Remember a provider's message (forgetting those older than ``keep``); False when it
        was seen already: a replay."""
        ...


class EndpointRepository(Protocol):
    def lock_workspace(self, workspace_id: str) -> None:
        """Serializes endpoint creations in one workspace, so two at once cannot both pass the
        limit."""
        ...

    def count(self, workspace_id: str) -> int: ...

    def add(self, endpoint: Endpoint) -> None: ...

    def get(self, workspace_id: str, endpoint_id: str, *, lock: bool = False) -> Endpoint | None: ...

    def save(self, endpoint: Endpoint) -> None: ...

    def delete(self, endpoint_id: str) -> None:
        """The endpoint with its deliveries and their attempts."""
        ...

    def listening(self, workspace_id: str, event_type: str) -> list[Endpoint]:
        """The workspace's enabled endpoints subscribed to ``event_type``."""
        ...


class DeliveryRepository(Protocol):
    def add(self, endpoints: Sequence[Endpoint], event_id: str, event_type: str, body: str,
            at: datetime) -> list[str]:
        """One due delivery per endpoint (none twice for an event), waking the schedulers when
        this commits; the ids of those added."""
        ...

    def get(self, endpoint_id: str, delivery_id: str, *, lock: bool = False) -> Delivery | None: ...

    def save(self, delivery: Delivery) -> None:
        """Its new state, waking the schedulers when this commits."""
        ...


class Repositories(Protocol):
    """Notify's repositories, as the unit of work holds them."""

    parties: PartyRepository
    signer_links: SignerLinkRepository
    owners: OwnerRepository
    ledger: EmailLedger
    sent_emails: SentEmailRepository
    provider_events: ProviderEventRepository
    endpoints: EndpointRepository
    deliveries: DeliveryRepository


class UnitOfWork(Repositories, PlatformUnitOfWorkProtocol, Protocol):
    """The platform's unit of work (outbox, inbox, commit) with notify's repositories."""

    def forget_agreement(self, agreement_id: str) -> dict[str, int]:
        """An agreement purged by signing: its parties, their links and its emails' records
        go (counts by table)."""
        ...


class SqlAlchemyUnitOfWork(PlatformUnitOfWork, Repositories):
    """Notify's repositories on the platform's transaction (outbox and inbox included)."""

    def _start(self) -> None:
        session = self.session
        self.parties = repository.SqlPartyRepository(session)
        self.signer_links = repository.SqlSignerLinkRepository(session)
        self.owners = repository.SqlOwnerRepository(session)
        self.ledger = repository.AutocommitEmailLedger(session)
        self.sent_emails = repository.SqlSentEmailRepository(session)
        self.provider_events = repository.SqlProviderEventRepository(session)
        self.endpoints = repository.SqlEndpointRepository(session)
        self.deliveries = repository.SqlDeliveryRepository(session)

    def forget_agreement(self, agreement_id: str) -> dict[str, int]:
        return repository.forget_agreement(self.session, agreement_id)
