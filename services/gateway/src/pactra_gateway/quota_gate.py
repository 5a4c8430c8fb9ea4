"""The quota decision at the edge: the gateway, which owns plans and counters, reserves what a
forwarded request is about to use before it forwards it, and gives the reservation back at
once when the service did not do the work (its answer was not a success).

- ``POST /v1/agreements/{id}/send``: one agreement and its signers. The signer count is the
  gateway's own record, taken from signing's ``201`` answer to ``POST /v1/agreements`` (signers
  are fixed once a draft exists); for an agreement made before that record existed, signing is
  asked (a signed ``GET``).
- ``POST /v1/documents``: the upload's bytes (its Content-Length; documents' ``usage.recorded``
  then says the exact size stored, and the counter takes the difference).
- ``POST /v1/documents/{id}/analysis``: one analysis; with the LLM engine, also refused when the
  month's tokens are spent (how many this one will use is not known before it runs).

Deciding here rather than in the service keeps the decision one conditional ``UPDATE`` in the
gateway's own database, with no call back into the gateway from a service that is itself
serving a gateway request (with every gateway thread forwarding, such a call would wait for a
thread that never frees). The work's ``usage.recorded`` event, under the same source id,
confirms the reservation (usage.py). Test-mode keys are never counted.
"""

import json
import logging
import re
from dataclasses import dataclass

from flask import Response, g, request
from sqlalchemy import text

from pactra_platform.internal_client import ServiceClient
from pactra_platform.problems import ProblemError

from .bootstrap import Gateway
from .usage import QuotaExceeded

log = logging.getLogger(__name__)
SEND = re.compile(r"^/v1/agreements/([^/]+)/send$")
ANALYSIS = re.compile(r"^/v1/documents/[^/]+/analysis$")
CREATE_AGREEMENT = "/v1/agreements"
UPLOAD = "/v1/documents"


@dataclass(frozen=True)
class Reservation:
    workspace_id: str
    source_id: str
    # Only what this request newly reserved is given back (a retried send of an agreement
    # already counted reserves nothing).
    metrics: tuple[str, ...]


def upload_source(request_id: str) -> str:
    return f"upload:{request_id}"


def analysis_source(request_id: str) -> str:
    return f"analysis:{request_id}"


def wants_answer(method: str, path: str) -> bool:
    """The answer must be read whole: a new agreement's signers are recorded from it."""
    return method == "POST" and path == CREATE_AGREEMENT


def before_forward(gw: Gateway, caller, request_id: str) -> Reservation | None:
    """Reserve what the request will use, or raise 402 quota_exceeded before it is forwarded."""
    if caller is None or not gw.usage.quotas or request.method != "POST" \
            or not getattr(caller, "livemode", True):
        return None
    path = request.path
    checks: tuple[str, ...] = ()
    if match := SEND.match(path):
        signers = _signers(gw, caller.workspace_id, match[1], request_id)
        if signers is None:
            return None  # no such agreement here: signing answers 404, nothing to count
        source_id, items = f"{match[1]}:send", {"agreements_sent": 1, "signers_invited": signers}
    elif path == UPLOAD:
        # The spooled body's size when it was spooled (chunked), else what the client declared.
        size = g.get("body_size") or request.content_length or 0
        source_id, items = upload_source(request_id), {"storage_bytes": size}
    elif ANALYSIS.match(path):
        source_id, items = analysis_source(request_id), {"ai_analyses": 1}
        if _ai_engine(gw, caller.workspace_id) == "llm":
            checks = ("llm_tokens",)
    else:
        return None
    try:
        for metric in checks:
            gw.usage.check(caller.workspace_id, metric)
        counted = gw.usage.reserve(caller.workspace_id, source_id, items,
                                   gw.usage.catalogue.get(caller.plan))
    except QuotaExceeded as exc:
        _log_refusal(gw, caller, source_id, exc)
        raise ProblemError(
            "quota_exceeded",
            f"This workspace's plan allows {exc.limit} {exc.metric.replace('_', ' ')} a month and "
            f"{exc.used} are used; the count resets at {exc.problem_fields()['resets_at']}.",
            quota=exc.problem_fields()) from exc
    return Reservation(caller.workspace_id, source_id, tuple(counted))


def after_forward(gw: Gateway, reservation: Reservation | None, caller, response: Response) -> None:
    if reservation is not None and reservation.metrics and not 200 <= response.status_code < 300:
        gw.usage.release(reservation.source_id, reservation.metrics)
    if (caller is not None and wants_answer(request.method, request.path)
            and response.status_code == 201):
        _remember_signers(gw, caller.workspace_id, response)


def _remember_signers(gw: Gateway, workspace_id: str, response: Response) -> None:
    try:
        body = json.loads(response.get_data())
        agreement_id, signers = str(body["id"]), len(body["signers"])
    except (ValueError, KeyError, TypeError):
        log.warning("a new agreement's answer did not say its signers; its send will ask signing")
        return
    with gw.usage.engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO agreement_signers (agreement_id, workspace_id, signers) "
            "VALUES (:a, :w, :n) ON CONFLICT DO NOTHING"), {"a": agreement_id, "w": workspace_id,
                                                           "n": signers})


def _signers(gw: Gateway, workspace_id: str, agreement_id: str, request_id: str) -> int | None:
    with gw.usage.engine.connect() as conn:
        found = conn.execute(text(
            "SELECT signers FROM agreement_signers WHERE agreement_id = :a AND workspace_id = :w"),
            {"a": agreement_id, "w": workspace_id}).scalar()
    if found is not None:
        return found
    answer = _signing(gw).request("GET", f"/v1/agreements/{agreement_id}", workspace_id=workspace_id)
    if answer.status_code != 200:
        return None
    return len(answer.json().get("signers") or [])


_clients: dict[int, ServiceClient] = {}


def _signing(gw: Gateway) -> ServiceClient:
    client = _clients.get(id(gw))
    if client is None:
        client = _clients.setdefault(id(gw), ServiceClient(gw.settings, "gateway", "signing",
                                                          timeout=10.0))
    return client


def _ai_engine(gw: Gateway, workspace_id: str) -> str | None:
    with gw.usage.engine.connect() as conn:
        return conn.execute(text("SELECT ai_engine FROM workspaces WHERE id = :w"),
                            {"w": workspace_id}).scalar()


def _log_refusal(gw: Gateway, caller, source_id: str, exc: QuotaExceeded) -> None:
    """``quota.refused`` in the workspace's security log; a failure to log must not turn a
    clean 402 into a 500."""
    from . import security_log
    from .edge import actor, client_ip

    try:
        with gw.uow() as uow:
            security_log.record(uow, caller.workspace_id, "quota.refused", actor(), client_ip(),
                                {"source_id": source_id, **exc.problem_fields()})
            uow.commit()
    except Exception:
        log.exception("could not log a quota refusal")
