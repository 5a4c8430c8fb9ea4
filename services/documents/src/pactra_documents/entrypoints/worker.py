"""The documents service's worker: its event handlers and its outbox relay.

Run with ``faststream run pactra_documents.entrypoints.worker:app``.
"""

from pactra_platform.bus import service_worker

from .app import SERVICE, USES_STORAGE

SUBSCRIPTIONS = ()  # none yet: its handlers come with the features that need them

app = service_worker(SERVICE, SUBSCRIPTIONS, uses_storage=USES_STORAGE)
