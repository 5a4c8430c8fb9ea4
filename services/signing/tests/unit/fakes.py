"""In-memory stand-ins for the signing service's unit of work and its token vault: the
handlers run against these with no database and no broker."""

from datetime import datetime, timedelta
from typing import Any

from pactra_contracts.events import SYSTEM, Event
from pactra_devtools.fakes import FakeUnitOfWork as PlatformFake
from pactra_signing.domain.agreement import ENDED, Agreement, Signer
from pactra_signing.domain.errors import NotFound
from pactra_signing.domain.workspace import RetentionPolicy, Sender
from pactra_signing.service_layer.context import Context


class FakeRetentionPolicies:
    def __init__(self) -> None:
        self.policies: dict[str, RetentionPolicy] = {}

    def note(self, workspace_id: str, retention_days: int | None, as_of: datetime) -> None:
        known = self.policies.get(workspace_id)
        if known is None or known.as_of < as_of:
            self.policies[workspace_id] = RetentionPolicy(workspace_id, retention_days, as_of)


class FakeAgreements:
    def __init__(self, policies: FakeRetentionPolicies) -> None:
        self.stored: dict[str, Agreement] = {}
        self.policies = policies

    def add(self, agreement: Agreement) -> None:
        self.stored[agreement.id] = agreement

    def delete(self, agreement: Agreement) -> None:
        del self.stored[agreement.id]

    def get(self, workspace_id: str, agreement_id: str, *, lock: bool = False,
            livemode: bool | None = None) -> Agreement:
        agreement = self.stored.get(agreement_id)
        if (agreement is None or agreement.workspace_id != workspace_id
                or (livemode is not None and agreement.livemode != livemode)):
            raise NotFound(agreement_id)
        return agreement

    def by_token_hash(self, token_hash: str, *, lock: bool = False) -> Agreement | None:
        return next((a for a in self.stored.values()
                     if any(s.token_hash == token_hash for s in a.signers)), None)

    def row_only(self, workspace_id: str, agreement_id: str) -> Agreement | None:
        try:
            return self.get(workspace_id, agreement_id)
        except NotFound:
            return None

    def signer_row(self, workspace_id: str, agreement_id: str, signer_id: str) -> Signer | None:
        agreement = self.row_only(workspace_id, agreement_id)
        return agreement.signer(signer_id) if agreement is not None else None

    def signer_emails(self, workspace_id: str, agreement_id: str, livemode: bool | None) -> set[str]:
        try:
            return {s.email for s in self.get(workspace_id, agreement_id, livemode=livemode).signers}
        except NotFound:
            return set()

    def due_to_expire(self, now: datetime, limit: int) -> list[Agreement]:
        due = [a for a in self.stored.values() if a.status == "sent" and a.expires_at <= now]
        return sorted(due, key=lambda a: a.expires_at)[:limit]

    def due_for_retention(self, now: datetime, limit: int) -> list[Agreement]:
        def due(agreement: Agreement) -> bool:
            policy = self.policies.policies.get(agreement.workspace_id)
            return (policy is not None and policy.retention_days is not None
                    and agreement.status in ENDED and agreement.evidence_status != "issuing"
                    and agreement.ended_at is not None
                    and agreement.ended_at < now - timedelta(days=policy.retention_days))
        return sorted(filter(due, self.stored.values()), key=lambda a: a.ended_at or now)[:limit]

    def invitations_since(self, workspace_id: str, since: datetime) -> tuple[int, datetime | None]:
        times = [s.invited_at for a in self.stored.values() if a.workspace_id == workspace_id
                 for s in a.signers if s.invited_at is not None and s.invited_at > since]
        return len(times), min(times, default=None)


class FakeSenders:
    def __init__(self) -> None:
        self.stored: dict[str, Sender] = {}

    def get(self, workspace_id: str, *, lock: bool = False) -> Sender | None:
        return self.stored.get(workspace_id)

    def add(self, sender: Sender) -> None:
        self.stored[sender.workspace_id] = sender


class FakeUnitOfWork(PlatformFake):
    """The platform's fake outbox and inbox, with signing's repositories in memory."""

    def __init__(self) -> None:
        super().__init__()
        self.retention_policies = FakeRetentionPolicies()
        self.agreements = FakeAgreements(self.retention_policies)
        self.senders = FakeSenders()

    def of_type(self, event_type: str) -> list[Event[Any]]:
        return [event for event in self.published if event.type == event_type]


class FakeVault:
    """Seals by prefixing the signer it is bound to (the real one is AES-GCM)."""

    def seal(self, token: str, signer_id: str, workspace_id: str) -> bytes:
        return f"{signer_id}|{token}".encode()

    def open(self, sealed: bytes, signer_id: str) -> str:
        bound, token = sealed.decode().split("|", 1)
        assert bound == signer_id
        return token


def context() -> Context:
    return Context(master_key="m" * 40, public_url="https://sign.example", vault=FakeVault(),
                   request_id="req_test", actor=SYSTEM)
