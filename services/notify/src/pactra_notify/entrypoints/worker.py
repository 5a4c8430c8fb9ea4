"""The notify service's worker: its event handlers and its outbox relay.

Run with ``faststream run pactra_notify.entrypoints.worker:app``.
"""

from pactra_platform.bus import Subscription, service_worker

from .. import handlers
from ..deliveries import default_backend
from .app import SERVICE, USES_STORAGE

SUBSCRIPTIONS = (
    Subscription("on_signer_invited", ("signer.invited",), handlers.on_signer_invited),
    Subscription("on_signer_reminded", ("signer.reminded",), handlers.on_signer_reminded),
    Subscription("on_receipt_issued", ("receipt.issued",), handlers.on_receipt_issued),
)

app = service_worker(SERVICE, SUBSCRIPTIONS, uses_storage=USES_STORAGE)


@app.after_shutdown
def close_email_sessions() -> None:
    """The SMTP sessions kept for reuse end with a QUIT, not a dropped connection."""
    if default_backend.cache_info().currsize:
        default_backend().close()
