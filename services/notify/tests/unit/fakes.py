"""In-memory stand-ins for notify's unit of work (built on the shared
``pactra_devtools.fakes.FakeUnitOfWork``) and the outside world: the handlers and use cases run
on them with no database, broker, mail server or peer."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import count
from typing import Any

from pactra_devtools.fakes import FakeUnitOfWork as BaseFakeUnitOfWork
from pactra_notify.domain.email_outcomes import SentEmail
from pactra_notify.domain.emails import Email, SignedPdf
from pactra_notify.domain.recipients import Party
from pactra_notify.domain.test_mode import Owner
from pactra_notify.domain.webhooks import Delivery, Endpoint
from pactra_notify.service_layer.ports import Mail, PermanentEmailError


class FakeParties:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], Party] = {}

    def record(self, parties: Sequence[Party], at: datetime) -> None:
        for p in parties:
            self.rows.setdefault((p.agreement_id, p.party, p.email), p)

    def of_agreement(self, agreement_id: str) -> list[Party]:
        return [p for (a, _, _), p in self.rows.items() if a == agreement_id]


class FakeSignerLinks:
    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], str] = {}

    def remember(self, agreement_id: str, signer_id: str, workspace_id: str | None, sealed: str,
                 at: datetime) -> None:
        self.rows[(agreement_id, signer_id)] = sealed

    def sealed(self, agreement_id: str, signer_id: str) -> str | None:
        return self.rows.get((agreement_id, signer_id))


class FakeOwners:
    def __init__(self) -> None:
        self.rows: dict[str, Owner] = {}

    def get(self, workspace_id: str) -> Owner | None:
        return self.rows.get(workspace_id)

    def named(self, owner: Owner) -> None:
        known = self.rows.get(owner.workspace_id)
        self.rows[owner.workspace_id] = replace(
            owner, email=owner.email.lower(), email_verified=bool(known and known.email_verified))

    def confirmed(self, owner: Owner) -> None:
        known = self.rows.get(owner.workspace_id)
        if known is None or known.updated_at <= owner.updated_at:
            self.rows[owner.workspace_id] = replace(owner, email=owner.email.lower())


@dataclass
class LedgerRow:
    id: int
    event_id: str
    workspace_id: str | None
    recipient: str
    kind: str
    agreement_id: str | None
    signer_id: str | None
    status: str = "pending"
    provider_message_id: str | None = None
    error: str | None = None
    outcome: str | None = None


class FakeLedger:
    """The email ledger and its rows as provider reports find them."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], LedgerRow] = {}
        self._ids = count(1)

    def begin(self, event_id: str, workspace_id: str | None, recipient: str, kind: str,
              agreement_id: str | None, signer_id: str | None) -> str:
        row = self.rows.setdefault((event_id, recipient), LedgerRow(
            next(self._ids), event_id, workspace_id, recipient, kind, agreement_id, signer_id))
        return row.status

    def statuses(self, event_id: str) -> dict[str, str]:
        return {r: row.status for (e, r), row in self.rows.items() if e == event_id}

    def sent(self, event_id: str, recipient: str, provider_message_id: str, at: datetime) -> None:
        row = self.rows[(event_id, recipient)]
        row.status, row.provider_message_id = "sent", provider_message_id

    def failed(self, event_id: str, recipient: str, error: str) -> None:
        row = self.rows[(event_id, recipient)]
        row.status, row.error = "failed", error

    def suppressed(self, event_id: str, recipient: str, reason: str) -> None:
        row = self.rows[(event_id, recipient)]
        row.status, row.error = "suppressed", reason

    # SentEmailRepository
    def by_provider_id(self, provider_message_id: str) -> SentEmail | None:
        for row in self.rows.values():
            if row.provider_message_id == provider_message_id:
                return SentEmail(row.id, row.recipient, row.kind, row.agreement_id, row.workspace_id,
                                 row.signer_id, row.outcome)
        return None

    def record_outcome(self, email: SentEmail, outcome: str, at: datetime) -> None:
        next(row for row in self.rows.values() if row.id == email.id).outcome = outcome


class FakeProviderEvents:
    def __init__(self) -> None:
        self.seen: dict[str, datetime] = {}

    def first_time(self, message_id: str, event_type: str, at: datetime, keep: timedelta) -> bool:
        self.seen = {m: t for m, t in self.seen.items() if t >= at - keep}
        if message_id in self.seen:
            return False
        self.seen[message_id] = at
        return True


class FakeEndpoints:
    def __init__(self) -> None:
        self.rows: dict[str, Endpoint] = {}

    def lock_workspace(self, workspace_id: str) -> None:
        pass

    def count(self, workspace_id: str) -> int:
        return sum(e.workspace_id == workspace_id for e in self.rows.values())

    def add(self, endpoint: Endpoint) -> None:
        self.rows[endpoint.id] = replace(endpoint)

    def get(self, workspace_id: str, endpoint_id: str, *, lock: bool = False) -> Endpoint | None:
        found = self.rows.get(endpoint_id)
        return replace(found) if found is not None and found.workspace_id == workspace_id else None

    def save(self, endpoint: Endpoint) -> None:
        self.rows[endpoint.id] = replace(endpoint)

    def delete(self, endpoint_id: str) -> None:
        del self.rows[endpoint_id]

    def listening(self, workspace_id: str, event_type: str) -> list[Endpoint]:
        return [e for e in self.rows.values()
                if e.workspace_id == workspace_id and e.enabled and e.subscribes_to(event_type)]


@dataclass
class QueuedDelivery:
    delivery: Delivery
    type: str
    body: str


class FakeDeliveries:
    def __init__(self) -> None:
        self.rows: dict[str, QueuedDelivery] = {}
        self._ids = count(1)

    def add(self, endpoints: Sequence[Endpoint], event_id: str, event_type: str, body: str,
            at: datetime) -> list[str]:
        added = []
        for endpoint in endpoints:
            if any(q.delivery.endpoint_id == endpoint.id and q.delivery.event_id == event_id
                   for q in self.rows.values()):
                continue
            delivery_id = f"whd_{next(self._ids)}"
            self.rows[delivery_id] = QueuedDelivery(
                Delivery(delivery_id, endpoint.id, event_id, "pending", 0, at), event_type, body)
            added.append(delivery_id)
        return added

    def get(self, endpoint_id: str, delivery_id: str, *, lock: bool = False) -> Delivery | None:
        queued = self.rows.get(delivery_id)
        if queued is None or queued.delivery.endpoint_id != endpoint_id:
            return None
        return replace(queued.delivery)

    def save(self, delivery: Delivery) -> None:
        self.rows[delivery.id].delivery = replace(delivery)


class FakeUnitOfWork(BaseFakeUnitOfWork):
    """Notify's repositories in memory; events leave (``published``) when it commits, as the
    consumer commits after a handler (``pending`` until then)."""

    def __init__(self) -> None:
        super().__init__()
        self.parties, self.signer_links, self.owners = FakeParties(), FakeSignerLinks(), FakeOwners()
        # The ledger and the emails a provider's report finds are one table, so one store.
        self.ledger = self.sent_emails = FakeLedger()
        self.provider_events = FakeProviderEvents()
        self.endpoints, self.deliveries = FakeEndpoints(), FakeDeliveries()

    def forget_agreement(self, agreement_id: str) -> dict[str, int]:
        counts = {}
        for name, rows, agreement_of in (
                ("agreement_parties", self.parties.rows, lambda key, row: key[0]),
                ("signer_links", self.signer_links.rows, lambda key, row: key[0]),
                ("deliveries", self.ledger.rows, lambda key, row: row.agreement_id)):
            gone = [key for key, row in rows.items() if agreement_of(key, row) == agreement_id]
            for key in gone:
                del rows[key]
            counts[name] = len(gone)
        return counts

    def pending_types(self) -> list[str]:
        return [event.type for event in self.pending]


class FakeEmailBackend:
    """Records what was sent; ``refuse`` names addresses the provider refuses for good."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.sent: list[Email] = []
        self.refuse = refuse
        self._ids = count(1)

    def send(self, email: Email, *, idempotency_key: str) -> str:
        if email.to.lower() in self.refuse:
            raise PermanentEmailError(f"{email.to} refused")
        self.sent.append(email)
        return f"msg_{next(self._ids)}"

    def close(self) -> None:
        pass

    def to(self, address: str) -> list[Email]:
        return [e for e in self.sent if e.to.lower() == address.lower()]


class FakeLinks:
    """Sealed links that are the clear link with a prefix, bound like the real ones."""

    def signing_link(self, sealed: str, signer_id: str) -> str:
        assert sealed.startswith(f"sealed:{signer_id}:"), "a link sealed for another signer"
        return sealed.removeprefix(f"sealed:{signer_id}:")

    def account_link(self, sealed: str, user_id: str) -> str:
        assert sealed.startswith(f"sealed:{user_id}:"), "a link sealed for another user"
        return sealed.removeprefix(f"sealed:{user_id}:")


@dataclass
class FakePeers:
    pdf: bytes | None = b"%PDF-1.7 signed"
    agreements: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    pdf_requests: int = 0
    agreement_requests: int = 0

    def signed_pdf(self, workspace_id: str | None, agreement_id: str) -> SignedPdf:
        self.pdf_requests += 1
        return SignedPdf(self.pdf, f"{agreement_id}-signed.pdf")

    def agreement(self, workspace_id: str, agreement_id: str) -> Mapping[str, Any] | None:
        self.agreement_requests += 1
        return self.agreements.get(agreement_id)


class FakeSealer:
    def seal(self, workspace_id: str, endpoint_id: str, secret: str) -> bytes:
        return f"{workspace_id}/{endpoint_id}/{secret}".encode()


def fake_mail(backend: FakeEmailBackend | None = None, peers: FakePeers | None = None) -> Mail:
    return Mail(backend or FakeEmailBackend(), FakeLinks(), peers or FakePeers(),
                "https://pactra.example")
