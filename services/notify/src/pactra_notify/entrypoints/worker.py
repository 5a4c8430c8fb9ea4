"""The notify service's worker: its event handlers and its outbox relay.

Run with ``faststream run pactra_notify.entrypoints.worker:app``.
"""

from pactra_platform.bus import Periodic, Subscription, service_worker
from pactra_platform.db import session_factory

from .. import account_emails, exports, handlers, purging, test_mode, webhooks
from ..deliveries import default_backend
from ..settings import get_notify_settings
from ..webhook_delivery import Dispatcher
from .app import SERVICE, USES_STORAGE

SUBSCRIPTIONS = (
    # Records each agreement's parties: the only addresses its receipt may be emailed to.
    Subscription("on_agreement_created", ("agreement.created",), handlers.on_agreement_created),
    Subscription("on_signer_invited", ("signer.invited",), handlers.on_signer_invited),
    Subscription("on_signer_reminded", ("signer.reminded",), handlers.on_signer_reminded),
    Subscription("on_receipt_issued", ("receipt.issued",), handlers.on_receipt_issued),
    # The account's emails: confirming an address, recovering access (api.md, "Account").
    Subscription("on_email_verification_requested", ("account.email_verification_requested",),
                 account_emails.on_email_verification_requested),
    Subscription("on_recovery_requested", ("account.recovery_requested",),
                 account_emails.on_recovery_requested),
    Subscription("on_deletion_confirmation_requested", ("account.deletion_confirmation_requested",),
                 account_emails.on_deletion_confirmation_requested),
    # Webhooks: each catalogue event becomes deliveries for the endpoints that subscribed;
    # owners are remembered to be told when an endpoint of theirs is disabled.
    Subscription("on_webhook_event", webhooks.BUS_TYPES, webhooks.on_webhook_event),
    Subscription("on_workspace_created", ("workspace.created",), webhooks.on_workspace_created),
    # The owner's confirmed address and whether it is verified: where test-mode email may go.
    Subscription("on_account_updated", ("account.updated",), test_mode.on_account_updated),
    # An agreement purged by retention or an early delete: its parties and their emails go.
    Subscription("on_agreement_purged", ("agreement.purged",), purging.on_agreement_purged),
    # Its part of a workspace export (api.md, "Exports").
    Subscription("on_export_requested", ("export.requested",), exports.on_export_requested),
    # Deletion of a workspace (api.md, "Deletion and retention"): purge, then report.
    Subscription("on_workspace_deletion_requested", ("workspace.deletion_requested",),
                 purging.on_deletion_requested),
)

_settings = get_notify_settings()
dispatcher = Dispatcher(_settings, session_factory(_settings, SERVICE))

app = service_worker(SERVICE, SUBSCRIPTIONS, uses_storage=USES_STORAGE, periodic=(
    # Sends due webhook deliveries; a committed new delivery wakes it at once.
    Periodic("webhook_deliveries", _settings.webhooks_poll_seconds, dispatcher.run,
             wake_on=webhooks.WEBHOOK_CHANNEL),
))


@app.after_shutdown
def close_email_sessions() -> None:
    """The SMTP sessions kept for reuse end with a QUIT, not a dropped connection."""
    if default_backend.cache_info().currsize:
        default_backend().close()


@app.after_shutdown
def finish_webhook_attempts() -> None:
    """Requests in flight finish and record their outcome (their leases would bring them
    back anyway, as a new attempt)."""
    dispatcher.close()
