"""The signing service's worker: its event handlers, its outbox relay, and expiry.

Run with ``faststream run pactra_signing.entrypoints.worker:app``.
"""

from faststream import FastStream

from pactra_contracts.events import SYSTEM
from pactra_platform.bus.consumer import Subscription
from pactra_platform.bus.scheduled import Periodic
from pactra_platform.bus.worker import build_worker

from ..bootstrap import SERVICE, Signing, bootstrap
from ..service_layer import agreements, exports, handlers, purging, retention
from .app import USES_STORAGE

# Expiry is checked every second: an agreement ends within about a second of its time.
EXPIRY_INTERVAL_SECONDS = 1.0
# Retention (api.md, "Deletion and retention") is daily, and once at each start; replicas
# split the due agreements (SKIP LOCKED), so running it on every worker purges each once.
RETENTION_INTERVAL_SECONDS = 24 * 3600.0


def subscriptions(signing: Signing) -> tuple[Subscription, ...]:
    return (
        Subscription("on_workspace_created", ("workspace.created",), handlers.on_workspace_created),
        Subscription("on_workspace_updated", ("workspace.updated",), handlers.on_workspace_updated),
        # The owner's corrected name and confirmed email: the sender of later agreements.
        Subscription("on_account_updated", ("account.updated",), handlers.on_account_updated),
        Subscription("on_receipt_issued", ("receipt.issued",), handlers.on_receipt_issued),
        Subscription("on_receipt_failed", ("receipt.failed",), handlers.on_receipt_failed),
        # Notify's reports of an email to a signer that came back: shown as delivery_status.
        Subscription("on_signer_email_undelivered", ("signer.bounced", "signer.complained"),
                     handlers.on_signer_email_undelivered),
        # Its part of a workspace export (api.md, "Exports").
        Subscription("on_export_requested", ("export.requested",),
                     exports.export_handler(signing.settings)),
        # Deletion of a workspace (api.md, "Deletion and retention"): purge, then report.
        Subscription("on_workspace_deletion_requested", ("workspace.deletion_requested",),
                     purging.on_deletion_requested),
    )


def create_worker(signing: Signing) -> FastStream:
    def expire_due_agreements() -> None:
        while agreements.expire_due(signing.context(None, SYSTEM), signing.uow()) > 0:
            pass

    def purge_retained_agreements() -> None:
        retention.run(signing.context(None, SYSTEM), signing.uow)

    return build_worker(signing.settings, SERVICE, subscriptions(signing), signing.uow, signing.sessions,
                        uses_storage=USES_STORAGE, periodic=(
                            Periodic("expire-agreements", EXPIRY_INTERVAL_SECONDS, expire_due_agreements),
                            Periodic("purge-retained-agreements", RETENTION_INTERVAL_SECONDS,
                                     purge_retained_agreements)))


signing_service = bootstrap()
# `pactra-migrate signing` declares these queues and /readyz checks them: both read this name.
SUBSCRIPTIONS = subscriptions(signing_service)
app = create_worker(signing_service)
