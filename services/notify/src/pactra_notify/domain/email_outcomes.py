"""What the email provider reports after sending (Resend's webhooks, issue 14 item 5): a bounce
or a complaint is recorded on its delivery once, and told to signing when it was a signer's."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

# Resend's event types that say something about the recipient; the others (email.sent,
# email.delivered, email.delivery_delayed, email.opened ...) are acknowledged and ignored.
OUTCOMES = {"email.bounced": "bounced", "email.complained": "complained"}
# Longer than Svix retries one message (about a day and a half): a retry of a message whose
# answer was lost is still recognised.
KEEP_PROVIDER_EVENTS = timedelta(days=3)


@dataclass(frozen=True)
class SentEmail:
    """One delivery of the email ledger, as a provider's report finds it."""

    id: int
    recipient: str
    kind: str
    agreement_id: str | None
    workspace_id: str | None
    signer_id: str | None
    outcome: str | None

    def is_news(self, outcome: str) -> bool:
        """False for the same report again (Resend sends it under another message id)."""
        return self.outcome != outcome


def outcome_of(event_type: str) -> str | None:
    return OUTCOMES.get(event_type)


def bounce_reason(data: Mapping[str, object]) -> str | None:
    """Resend's classification of a bounce ("Permanent/Suppressed"); never its message."""
    bounce = data.get("bounce")
    if not isinstance(bounce, dict):
        return None
    parts = [bounce.get(key) for key in ("type", "subType")]
    shown = "/".join(p for p in parts if isinstance(p, str) and p)
    return shown[:100] or None
