"""A provider's report about an email it sent (Resend's webhooks): recorded on its delivery
once and, for an email to a signer, published as ``signer.bounced`` or ``signer.complained``
(signing shows it as the signer's ``delivery_status``; integrators get it as a webhook).
Everything in one transaction."""

import logging
from collections.abc import Mapping

from pactra_contracts.events import SignerEmailUndelivered, make_event
from pactra_contracts.times import utcnow

from ..domain.email_outcomes import KEEP_PROVIDER_EVENTS, bounce_reason, outcome_of
from ..domain.errors import ReplayedReport
from ..domain.recipients import signer_with_address
from .unit_of_work import UnitOfWork

log = logging.getLogger(__name__)


def on_provider_report(uow: UnitOfWork, *, message_id: str, event_type: str,
                       data: Mapping[str, object], request_id: str | None) -> bool:
    """Act on one verified report; True when it changed a delivery of ours."""
    if not uow.provider_events.first_time(message_id, event_type, utcnow(), KEEP_PROVIDER_EVENTS):
        raise ReplayedReport()
    applied = False
    outcome = outcome_of(event_type)
    email_id = data.get("email_id")
    if outcome is not None and isinstance(email_id, str) and email_id:
        applied = _record(uow, email_id, outcome, bounce_reason(data), request_id)
    uow.commit()
    return applied


def _record(uow: UnitOfWork, email_id: str, outcome: str, reason: str | None,
            request_id: str | None) -> bool:
    """Mark the delivery; tell signing (and integrators) when it was a signer's. False when no
    delivery of ours has that id, or it already showed this outcome."""
    email = uow.sent_emails.by_provider_id(email_id)
    if email is None:
        # Another sender on the same Resend account, or an email older than its ledger row.
        log.info("Resend event for no delivery of ours", extra={"email_id": email_id[:200]})
        return False
    if not email.is_news(outcome):
        return False
    uow.sent_emails.record_outcome(email, outcome, utcnow())
    signer_id = email.signer_id
    if signer_id is None and email.agreement_id is not None:
        # A delivery recorded before its signer was kept.
        signer_id = signer_with_address(uow.parties.of_agreement(email.agreement_id), email.recipient)
    if signer_id and email.agreement_id and email.workspace_id:
        uow.publish(make_event(
            f"signer.{outcome}",
            SignerEmailUndelivered(agreement_id=email.agreement_id, signer_id=signer_id,
                                   delivery_status=outcome, email_kind=email.kind, reason=reason),
            producer="notify", workspace_id=email.workspace_id, correlation_id=request_id))
    log.info("email reported undelivered", extra={
        "delivery_id": email.id, "outcome": outcome, "agreement_id": email.agreement_id})
    return True
