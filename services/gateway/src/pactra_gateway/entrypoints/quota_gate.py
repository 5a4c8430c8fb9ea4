"""The quota decision at the edge: the gateway, which owns plans and counters, reserves what a
forwarded request is about to use before it forwards it, and gives the reservation back at
once when the service did not do the work (its answer was not a success).

- ``POST /v1/agreements/{id}/send``: one agreement and its signers. The signer count is the
  gateway's own record, taken from signing's ``201`` answer to ``POST /v1/agreements`` (signers
  are fixed once a draft exists), read in the statement that reserves (the usual send's whole
  decision is one round trip); for an agreement made before that record existed, signing is
  asked (a signed ``GET``), then the count it answered is reserved.
- ``POST /v1/documents``: the upload's bytes (its Content-Length; documents' ``usage.recorded``
  then says the exact size stored, and the counter takes the difference).
- ``POST /v1/documents/{id}/analysis``: one analysis; with the LLM engine, also refused when the
  month's tokens are spent (how many this one will use is not known before it runs).

Deciding here rather than in the service keeps the decision one conditional ``UPDATE`` in the
gateway's own database, with no call back into the gateway from a service that is itself
serving a gateway request (with every gateway thread forwarding, such a call would wait for a
thread that never frees). The work's ``usage.recorded`` event, under the same source id,
confirms the reservation (adapters/usage_counters.py). Test-mode keys are never counted. The
rules (what each request reserves) are ``domain/quotas.py``.
"""

import json
import logging

from flask import Response, g, request

from pactra_gateway.adapters import security_log
from pactra_gateway.bootstrap import Gateway
from pactra_gateway.domain import quotas
from pactra_gateway.domain.errors import QuotaExceeded
from pactra_gateway.entrypoints.errors import problem
from pactra_gateway.service_layer.accounts import Caller

log = logging.getLogger(__name__)


def decided_with_key(gw: Gateway) -> quotas.Ask | None:
    """A send's ask, when its decision is made in the API key's look-up (the usual live send:
    accounts.authenticate_reserving); the gate below decides whatever that did not."""
    agreement_id = quotas.sent_agreement(request.method, request.path) if gw.usage.quotas else None
    return quotas.send(agreement_id) if agreement_id else None


def before_forward(gw: Gateway, caller: Caller | None, request_id: str) -> quotas.Reservation | None:
    """Reserve what the request will use, or raise 402 quota_exceeded before it is forwarded.
    The reservation is also kept in ``g`` until :func:`settle` (or :func:`after_forward`)."""
    if (decided := g.get("reservation")) is not None:
        return decided  # made with the key's look-up
    if caller is None or not gw.usage.quotas or not caller.livemode:
        return None
    ask = _ask(gw, caller.workspace_id, request_id)
    if ask is None:
        return None
    plan = gw.usage.catalogue.get(caller.plan)
    try:
        for metric in ask.checks:
            gw.usage.check(caller.workspace_id, metric)
        if ask.signers_of is None:
            counted = gw.usage.reserve(caller.workspace_id, ask.source_id, _given(ask), plan)
        elif (found := gw.usage.reserve_send(caller.workspace_id, ask, plan)) is not None:
            counted = found  # the usual send: one round trip, the signer count read with it
        else:
            # No signer count recorded here (an agreement made before that record existed,
            # or none of this workspace's): signing says; no such agreement, it answers 404
            # and there is nothing to count.
            signers = _signers_from_signing(gw, caller.workspace_id, ask.signers_of)
            if signers is None:
                return None
            ask = quotas.send(ask.signers_of, signers)
            counted = gw.usage.reserve(caller.workspace_id, ask.source_id, _given(ask), plan)
    except QuotaExceeded as exc:
        _log_refusal(gw, caller, ask.source_id, exc)
        raise problem(exc) from exc
    g.reservation = quotas.Reservation(caller.workspace_id, ask.source_id, tuple(counted))
    return g.reservation


def _given(ask: quotas.Ask) -> dict[str, int]:
    """An ask whose quantities are all given (only a send's signer count is ever looked up)."""
    return {metric: quantity or 0 for metric, quantity in ask.items.items()}


def _ask(gw: Gateway, workspace_id: str, request_id: str) -> quotas.Ask | None:
    method, path = request.method, request.path
    if agreement_id := quotas.sent_agreement(method, path):
        return quotas.send(agreement_id)
    if quotas.is_upload(method, path):
        # The spooled body's size when it was spooled (chunked), else what the client declared.
        return quotas.upload(request_id, g.get("body_size") or request.content_length or 0)
    if quotas.is_analysis(method, path):
        return quotas.analysis(request_id, llm=gw.usage.ai_engine_of(workspace_id) == "llm")
    return None


def after_forward(gw: Gateway, reservation: quotas.Reservation | None, caller: Caller | None,
                  response: Response) -> None:
    g.pop("reservation", None)
    settle(gw, reservation, response.status_code)
    if (caller is not None and quotas.wants_answer(request.method, request.path)
            and response.status_code == 201):
        _remember_signers(gw, caller.workspace_id, response)


def settle(gw: Gateway, reservation: quotas.Reservation | None, status: int) -> None:
    """Give a reservation back when its request was not a success. A failure to give it back
    is logged, not raised over the answer: the worker's housekeeping gives back what no event
    confirmed (usage_counters.RESERVATION_SECONDS)."""
    if reservation is None or not reservation.released_by(status):
        return
    try:
        gw.usage.release(reservation.source_id, reservation.metrics)
    except Exception:
        log.exception("could not give back a quota reservation; housekeeping will")


def _remember_signers(gw: Gateway, workspace_id: str, response: Response) -> None:
    try:
        body = json.loads(response.get_data())
        agreement_id, signers = str(body["id"]), len(body["signers"])
    except (ValueError, KeyError, TypeError):
        log.warning("a new agreement's answer did not say its signers; its send will ask signing")
        return
    gw.usage.remember_signers(workspace_id, agreement_id, signers)


def _signers_from_signing(gw: Gateway, workspace_id: str, agreement_id: str) -> int | None:
    answer = gw.signing.request("GET", f"/v1/agreements/{agreement_id}", workspace_id=workspace_id)
    if answer.status_code != 200:
        return None
    return len(answer.json().get("signers") or [])


def _log_refusal(gw: Gateway, caller: Caller, source_id: str, exc: QuotaExceeded) -> None:
    """``quota.refused`` in the workspace's security log; a failure to log must not turn a
    clean 402 into a 500."""
    from pactra_gateway.entrypoints.edge import actor, client_ip

    try:
        with gw.uow() as uow:
            security_log.record(uow, caller.workspace_id, "quota.refused", actor(), client_ip(),
                                {"source_id": source_id, **exc.problem_fields()})
            uow.commit()
    except Exception:
        log.exception("could not log a quota refusal")
