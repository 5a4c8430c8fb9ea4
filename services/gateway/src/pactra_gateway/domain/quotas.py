"""Quota decisions, the rules without the counters: which forwarded requests reserve what,
which limit a metric is held to, and when a reservation is given back.

The counting itself (one conditional ``UPDATE`` per metric, so two requests racing for the
last unit cannot both pass) is ``adapters/usage_counters.py``; the edge that reserves before
forwarding is ``entrypoints/quota_gate.py``.
"""

import re
from dataclasses import dataclass

from .plans import Plan

SEND = re.compile(r"^/v1/agreements/([^/]+)/send$")
ANALYSIS = re.compile(r"^/v1/documents/[^/]+/analysis$")
CREATE_AGREEMENT = "/v1/agreements"
UPLOAD = "/v1/documents"


@dataclass(frozen=True)
class Ask:
    """What one request is about to use: counted under ``source_id`` (a retry counts nothing
    more); ``checks`` are metrics that must have something left, though how much the work will
    use is not known before it runs (an LLM analysis's tokens)."""

    source_id: str
    # None: the quantity is the signer count the gateway recorded for ``signers_of`` (a send's,
    # looked up where the decision is made, in the same statement).
    items: dict[str, int | None]
    checks: tuple[str, ...] = ()
    signers_of: str | None = None


@dataclass(frozen=True)
class Reservation:
    workspace_id: str
    source_id: str
    # Only what this request newly reserved is given back (a retried send of an agreement
    # already counted reserves nothing).
    metrics: tuple[str, ...]

    def released_by(self, status: int) -> bool:
        """A reservation is given back when the service did not do the work."""
        return bool(self.metrics) and not 200 <= status < 300


# Agreement ids are 28 characters (``agr_`` and 24 hex digits); one longer than this names no
# agreement, and there is nothing to reserve for it (signing answers 404, or the edge 414).
MAX_AGREEMENT_ID = 64


def sent_agreement(method: str, path: str) -> str | None:
    """The agreement a ``POST /v1/agreements/{id}/send`` sends."""
    match = SEND.match(path) if method == "POST" else None
    return match[1] if match and len(match[1]) <= MAX_AGREEMENT_ID else None


def send(agreement_id: str, signers: int | None = None) -> Ask:
    """A send reserves the agreement and its signers: ``signers``, or (None) the count recorded
    when the agreement was created."""
    return Ask(f"{agreement_id}:send", {"agreements_sent": 1, "signers_invited": signers},
               signers_of=agreement_id if signers is None else None)


def upload(request_id: str, size: int) -> Ask:
    return Ask(f"upload:{request_id}", {"storage_bytes": size})


def analysis(request_id: str, *, llm: bool) -> Ask:
    return Ask(f"analysis:{request_id}", {"ai_analyses": 1}, ("llm_tokens",) if llm else ())


def is_upload(method: str, path: str) -> bool:
    return method == "POST" and path == UPLOAD


def is_analysis(method: str, path: str) -> bool:
    return method == "POST" and ANALYSIS.match(path) is not None


def wants_answer(method: str, path: str) -> bool:
    """The answer must be read whole: a new agreement's signers are recorded from it."""
    return method == "POST" and path == CREATE_AGREEMENT


def limit_of(plan: Plan, metric: str, quotas: bool) -> int | None:
    """The limit ``metric`` is held to; None when it is counted but never refused (quotas off,
    a metric the plan bills rather than blocks)."""
    return plan.limits[metric] if quotas and plan.blocks(metric) else None


def exhausted(plan: Plan, metric: str, used: int, quotas: bool) -> bool:
    """Nothing left of ``metric`` this period."""
    limit = limit_of(plan, metric, quotas)
    return limit is not None and used >= limit
