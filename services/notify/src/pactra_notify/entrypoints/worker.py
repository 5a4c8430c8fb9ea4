"""The notify service's worker: its event handlers, its outbox relay, and the webhook
scheduler.

Run with ``faststream run pactra_notify.entrypoints.worker:app``.
"""

from pactra_platform.bus import Periodic, build_worker

from ..adapters.repository import WEBHOOK_CHANNEL
from ..bootstrap import SERVICE, USES_STORAGE, bootstrap

notify = bootstrap()
# Read by `pactra-migrate notify` (which declares the queues) and by the API's readiness.
SUBSCRIPTIONS = notify.subscriptions()
dispatcher = notify.dispatcher()

app = build_worker(notify.settings, SERVICE, SUBSCRIPTIONS, notify.uow, notify.sessions,
                   uses_storage=USES_STORAGE, periodic=(
                       # Sends due webhook deliveries; a committed new delivery wakes it at once.
                       Periodic("webhook_deliveries", notify.settings.webhooks_poll_seconds,
                                dispatcher.run, wake_on=WEBHOOK_CHANNEL),
                   ))


@app.after_shutdown
def close_email_sessions() -> None:
    """The SMTP sessions kept for reuse end with a QUIT, not a dropped connection."""
    notify.email.close()


@app.after_shutdown
def finish_webhook_attempts() -> None:
    """Requests in flight finish and record their outcome (their leases would bring them
    back anyway, as a new attempt)."""
    dispatcher.close()
