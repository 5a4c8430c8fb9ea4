"""Who acts, and what the actions need besides the unit of work: the keys and the public
address that make a signer's link, and the events about an agreement."""

from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from pactra_contracts.events import Actor, Event, make_event

from ..domain.agreement import Agreement

Data = TypeVar("Data", bound=BaseModel)


class Vault(Protocol):
    """Seals a signer's token for resending (adapters/tokens.TokenVault)."""

    def seal(self, token: str, signer_id: str, workspace_id: str) -> bytes: ...

    def open(self, sealed: bytes, signer_id: str) -> str: ...


@dataclass(frozen=True)
class Context:
    master_key: str
    public_url: str
    vault: Vault
    request_id: str | None
    actor: Actor

    def event(self, event_type: str, data: Data, agreement: Agreement, *,
              actor: Actor | None = None) -> Event[Any]:
        # Every event about an agreement is a change of it: its version grows here, in the
        # transaction (and under the row lock) that publishes the event, so versions are in
        # the order the changes committed.
        agreement.version = (agreement.version or 0) + 1
        if "agreement_version" in type(data).model_fields:
            data = data.model_copy(update={"agreement_version": agreement.version})
        if "livemode" in type(data).model_fields:
            # Receipts and notify learn a test agreement's mode from its events.
            data = data.model_copy(update={"livemode": agreement.livemode})
        return make_event(event_type, data, producer="signing", workspace_id=agreement.workspace_id,
                          correlation_id=self.request_id, actor=actor or self.actor)

    def link(self, token: str) -> str:
        return f"{self.public_url.rstrip('/')}/s/{token}"
