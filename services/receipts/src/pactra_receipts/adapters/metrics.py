"""Evidence gauges for the API's ``/metrics``: the worker does the work (its counters are in
issuer.py), but these are read from the database at scrape time so any replica shows them."""

import logging
from collections.abc import Iterator

from prometheus_client.core import REGISTRY, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from .orm import EvidenceJob, Receipt

log = logging.getLogger(__name__)


class EvidenceCollector(Collector):
    def __init__(self, sessions: sessionmaker) -> None:
        self.sessions = sessions

    def describe(self) -> list[GaugeMetricFamily]:
        # Without this, registering would call collect() and query the database at start.
        return [GaugeMetricFamily("pactra_receipts_evidence_agreements",
                                  "Ended agreements by evidence status", labels=["status"])]

    def collect(self) -> Iterator[GaugeMetricFamily]:
        pending = GaugeMetricFamily("pactra_receipts_evidence_agreements",
                                    "Ended agreements by evidence status", labels=["status"])
        try:
            with self.sessions() as session:
                counts = dict(session.execute(
                    select(EvidenceJob.status, func.count()).group_by(EvidenceJob.status)).all())
                issued = session.scalar(select(func.count()).select_from(Receipt)) or 0
                # Failed and no longer retried by itself: waiting for `retry-evidence`.
                stopped = session.scalar(select(func.count()).select_from(EvidenceJob)
                                         .where(EvidenceJob.next_attempt_at.is_(None))) or 0
        except Exception:  # a scrape must not fail because the database is briefly away
            log.warning("evidence gauges unavailable", exc_info=True)
            return
        for status in ("issuing", "failed"):
            pending.add_metric([status], counts.get(status, 0))
        pending.add_metric(["issued"], issued)
        pending.add_metric(["stopped"], stopped)
        yield pending


_registered: EvidenceCollector | None = None


def register_evidence_collector(sessions: sessionmaker) -> None:
    global _registered
    if _registered is None:
        _registered = EvidenceCollector(sessions)
        REGISTRY.register(_registered)
    else:
        _registered.sessions = sessions
