"""The receipts service's worker: its event handlers and its outbox relay.

Run with ``faststream run pactra_receipts.entrypoints.worker:app``.
"""

import asyncio
import logging

from pactra_platform.bus import Subscription, service_worker
from pactra_platform.settings import get_settings

from .. import handlers
from ..bootstrap import sessions
from ..keys import ensure_active_key
from ..trail import TRAIL_EVENTS
from .app import SERVICE, USES_STORAGE

log = logging.getLogger(__name__)

SUBSCRIPTIONS = (
    Subscription("on_agreement_event", TRAIL_EVENTS, handlers.on_agreement_event),
)

app = service_worker(SERVICE, SUBSCRIPTIONS, uses_storage=USES_STORAGE)


@app.on_startup
async def make_first_key() -> None:
    settings = get_settings()
    try:
        await asyncio.to_thread(ensure_active_key, sessions(settings), settings.master_key)
    except Exception:  # the key is made lazily on first use if the database is not up yet
        log.exception("could not make the receipt-signing key at start")
