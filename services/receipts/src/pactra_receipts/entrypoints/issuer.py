"""The receipts service's evidence issuer: seals, certificates and receipts (issuer.py).

A process of its own, apart from the worker that records the trail: making evidence is PDF
and signature work, and sharing the worker's interpreter would hold up the trail (and the
"agreement ended" that marks evidence due) behind it. Run as many as needed; they share the
due agreements with ``FOR UPDATE SKIP LOCKED``. Its ``receipt.*`` events leave through the
worker's relay, which their commit wakes.
Run with ``faststream run pactra_receipts.entrypoints.issuer:app``.
"""

import asyncio
import logging

from pactra_platform.bus import Periodic, service_worker
from pactra_platform.settings import get_settings

from ..bootstrap import evidence_maker, sessions
from ..config import seal_settings
from ..issuer import EVIDENCE_DUE_CHANNEL, issue_due
from ..keys import ensure_active_key
from ..seal_store import ensure_active_seal
from .app import SERVICE, USES_STORAGE

log = logging.getLogger(__name__)


def issue_due_evidence() -> int:
    return issue_due(sessions(get_settings()), evidence_maker, seal_settings())


# Several issuers: SKIP LOCKED lets them seal as many agreements at once. A commit that marks
# evidence due wakes them; the poll picks up retries whose back-off has passed.
PERIODIC = tuple(Periodic(f"issue_due_evidence_{n}", seal_settings().evidence_poll_seconds,
                          issue_due_evidence, wake_on=EVIDENCE_DUE_CHANNEL)
                 for n in range(1, seal_settings().evidence_issuers + 1))

app = service_worker(SERVICE, (), uses_storage=USES_STORAGE, periodic=PERIODIC, relay=False)


@app.on_startup
async def make_first_key() -> None:
    settings = get_settings()
    try:
        await asyncio.to_thread(ensure_active_key, sessions(settings), settings.master_key)
        if not seal_settings().seal_p12:
            await asyncio.to_thread(ensure_active_seal, sessions(settings), settings.master_key)
    except Exception:  # the key is made lazily on first use if the database is not up yet
        log.exception("could not make the receipt-signing key at start")
