"""The signing service's worker: its event handlers and its outbox relay.

Run with ``faststream run pactra_signing.entrypoints.worker:app``.
"""

from pactra_platform.bus import Subscription, service_worker

from .. import handlers
from .app import SERVICE, USES_STORAGE

SUBSCRIPTIONS = (
    Subscription("on_workspace_created", ("workspace.created",), handlers.on_workspace_created),
    Subscription("on_workspace_updated", ("workspace.updated",), handlers.on_workspace_updated),
)

app = service_worker(SERVICE, SUBSCRIPTIONS, uses_storage=USES_STORAGE)
