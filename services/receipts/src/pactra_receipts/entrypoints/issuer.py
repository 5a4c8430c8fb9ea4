"""The receipts service's evidence issuer: seals, certificates and receipts
(service_layer/issuer.py).

A process of its own, apart from the worker that records the trail: making evidence is PDF
and signature work, and sharing the worker's interpreter would hold up the trail (and the
"agreement ended" that marks evidence due) behind it. Run as many as needed; they share the
due agreements with ``FOR UPDATE SKIP LOCKED``. Its ``receipt.*`` events leave through the
worker's relay, which their commit wakes.
Run with ``faststream run pactra_receipts.entrypoints.issuer:app``.
"""

import asyncio
import logging

from faststream import FastStream

from pactra_platform.bus.scheduled import Periodic
from pactra_platform.bus.worker import build_worker

from ..adapters.keys import ensure_active_key
from ..adapters.repository import EVIDENCE_DUE_CHANNEL
from ..adapters.seal_store import ensure_active_seal
from ..bootstrap import SERVICE, USES_STORAGE, Receipts, bootstrap
from ..service_layer.issuer import issue_due

log = logging.getLogger(__name__)


def create_issuer(receipts: Receipts) -> FastStream:
    settings = receipts.settings

    def issue_due_evidence() -> int:
        return issue_due(receipts.uow, receipts.evidence, receipts.attempts)

    # Several issuers: SKIP LOCKED lets them seal as many agreements at once. A commit that
    # marks evidence due wakes them; the poll picks up retries whose back-off has passed.
    periodic = tuple(Periodic(f"issue_due_evidence_{n}", settings.evidence_poll_seconds,
                              issue_due_evidence, wake_on=EVIDENCE_DUE_CHANNEL)
                     for n in range(1, settings.evidence_issuers + 1))
    app = build_worker(settings, SERVICE, (), receipts.uow, receipts.sessions,
                       uses_storage=USES_STORAGE, periodic=periodic, relay=False)

    @app.on_startup
    async def make_first_key() -> None:
        try:
            await asyncio.to_thread(ensure_active_key, receipts.sessions, settings.master_key)
            if not settings.seal_p12:
                await asyncio.to_thread(ensure_active_seal, receipts.sessions, settings.master_key)
        except Exception:  # the key is made lazily on first use if the database is not up yet
            log.exception("could not make the receipt-signing key at start")

    return app


app = create_issuer(bootstrap())
