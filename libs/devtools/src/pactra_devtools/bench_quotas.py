"""``make bench``'s quota phase: what the quota decision adds to ``POST /v1/agreements/{id}/send``.

Two gateways, started alike for this phase, serve the same stack side by side: one with quotas
on (it reserves the send against the plan before it forwards it,
``pactra_gateway.entrypoints.quota_gate``), one under ``PACTRA_QUOTAS=off`` (nothing decided;
usage still counted from the events). Sends alternate between them, one on, one off, the order flipped
every pair, each straight to its gateway (no nginx in either), so the machine's drift falls on
both alike: it prints the median of the pairs' differences with a 95 % interval, the two medians
beside it. (A difference of two runs minutes apart, as this phase did before, moved by 10 ms
between two runs of the same setting on these shared cores.) A send takes tens of milliseconds,
with a spread wider than one millisecond however it is paired, so the figure held to the target
is the gateway's own: each gateway times its key look-up (a live send's quota decision is made
in it) and its quota gate, ``Server-Timing: auth;dur=…, quota;dur=…``; the pairs' difference of
those sums is what quotas add, with nothing else of the send in it. The bench's workspaces are
on a billed plan (the stack's ``PACTRA_DEFAULT_PLAN``), so no limit ever refuses a send: the
decision is made and costs what it costs, it just never says no.
"""

import os
import random
import statistics
import subprocess
import time
from dataclasses import replace

import requests

from . import local_s3
from .bench_openloop import gate_ms  # one reading of the gateway's header
from .processes import stop_group
from .stack import Stack, app_command


def _drafts(client, pdf: bytes, count: int) -> list[str]:
    document = client.call("POST", "/v1/documents?filename=quota-bench.pdf", 201, data=pdf,
                           headers={"Content-Type": "application/pdf"}).json()
    # To the owner's own address: sendable whether or not the owner's email is verified.
    owner = {"name": "Bench Owner", "email": client.email}
    fields = [{"signer_email": owner["email"], "type": "signature", "page": 1, "x": 72, "y": 600,
               "width": 180, "height": 40}]
    return [client.call("POST", "/v1/agreements", 201, json={
        "title": "Quota bench", "document_id": document["id"], "signers": [owner],
        "fields": fields}).json()["id"] for _ in range(count)]


# One send every PACE_SECONDS. Back to back, each send's cascade of events and emails keeps
# both cores busy, and every figure is then scheduling delay (the decision measured 2.2 ms that
# way, 0.75 ms in a quiet process); latency is measured below saturation (issue 17).
PACE_SECONDS = 0.3


def _send_ms(http: requests.Session, gateway: str, headers: dict,
             agreement_id: str) -> tuple[float, float]:
    """A send: its time at the client, and the gateway's key look-up and quota decision as the
    gateway timed them (its Server-Timing)."""
    started = time.perf_counter()
    response = http.post(f"{gateway}/v1/agreements/{agreement_id}/send", headers=headers, timeout=60)
    took = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"send {agreement_id}: {response.status_code} {response.text[:300]}")
    gated = gate_ms(response)
    if gated is None:
        raise RuntimeError("the gateway sent no Server-Timing for its key look-up")
    return took, gated


def _median_ci(values: list[float], rounds: int = 2000) -> tuple[float, float]:
    """A 95 % bootstrap interval of the median (seeded: the same data, the same interval)."""
    pick = random.Random(17)  # noqa: S311 - resampling for statistics, no secret
    medians = sorted(statistics.median(pick.choices(values, k=len(values))) for _ in range(rounds))
    return medians[int(rounds * 0.025)], medians[int(rounds * 0.975) - 1]


def _gateway(stack: Stack, quotas: str) -> tuple[subprocess.Popen, str]:
    """The gateway's API once more, on a port of its own, quotas ``on`` or ``off``."""
    port = local_s3.free_port_block(1)[0]
    env = {k: v for k, v in stack.env.items()
           if not k.endswith("_AMQP_PASSWORD") or k == "PACTRA_GATEWAY_AMQP_PASSWORD"}
    log_path = stack.workdir / f"gateway-quotas-{quotas}.log"
    log = open(log_path, "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen(app_command("gateway", port), env={**env, "PACTRA_QUOTAS": quotas},
                               stdout=log, stderr=log, start_new_session=True)
    log.close()  # the child holds its own descriptor
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/readyz", timeout=2).status_code == 200:
                return process, url
        except requests.RequestException:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.2)
    stop_group(process, 5, kill=True)
    raise RuntimeError(f"the quotas-{quotas} gateway did not start: " + log_path.read_text()[-3000:])


def run(stack: Stack, client, pdf: bytes, pairs: int = 150) -> None:
    """Prints p50 of send with quotas on and off, interleaved; target: on - off <= 1 ms."""
    # Two processes started alike for this phase, rather than the stack's own gateway against
    # a new one: the stack's has served everything before (and serves the services' internal
    # calls), a difference between processes that is not the quotas'.
    servers: list[tuple[subprocess.Popen, str]] = []
    try:
        for quotas in ("on", "off"):
            servers.append(_gateway(stack, quotas))
        gateways = {"on": servers[0][1], "off": servers[1][1]}
        http = requests.Session()
        drafts = _drafts(client, pdf, 2 * (pairs + 10))
        for i, agreement_id in enumerate(drafts[:20]):  # warm-up: connections, caches
            _send_ms(http, gateways["on" if i % 2 else "off"], client.headers, agreement_id)
        took: dict[str, list[float]] = {"on": [], "off": []}
        gated: dict[str, list[float]] = {"on": [], "off": []}
        rest = iter(drafts[20:])
        for i in range(pairs):
            order = ("on", "off") if i % 2 else ("off", "on")
            for label in order:
                started = time.monotonic()
                client_ms, gateway_ms = _send_ms(http, gateways[label], client.headers, next(rest))
                took[label].append(client_ms)
                gated[label].append(gateway_ms)
                # Below saturation: each send's cascade (events, emails) done before the next.
                time.sleep(max(0.0, started + PACE_SECONDS - time.monotonic()))
    finally:
        for process, _ in servers:
            stop_group(process, 10)
    print(f"POST /v1/agreements/{{id}}/send, {pairs} pairs, quotas on and off interleaved "
          f"(two gateways, straight to each), one send every {PACE_SECONDS * 1000:.0f} ms")
    for label in ("on", "off"):
        print(f"  p50 quotas {label:3}, at the client      {statistics.median(took[label]):8.2f} ms   "
              f"key + quota in the gateway {statistics.median(gated[label]):6.2f} ms")
    for what, values in (("at the client", took), ("in the gateway", gated)):
        differences = [on - off for on, off in zip(values["on"], values["off"], strict=True)]
        low, high = _median_ci(differences)
        print(f"  on - off {what:14}, p50 of pairs {statistics.median(differences):6.2f} ms   "
              f"(95 % interval {low:.2f} to {high:.2f})")
    print("  quota check adds (p50): the gateway's on - off above (target <= 1 ms): the key look-up "
          "with the send's decision made in it, less the same look-up alone, each as the "
          "running gateway timed it (Server-Timing); at the client, the sends' own spread is wider")
    print(f"  the decision alone, in-process p50 {_decision_ms(stack, client, drafts):6.2f} ms   "
          "(the key look-up with the send reserved, less the look-up alone, alternated)")


def _decision_ms(stack: Stack, client, agreement_ids: list[str]) -> float:
    """What the decision adds to a send's key look-up, timed in this process against the
    stack's database (less noisy than sends on a busy machine): the gateway's own look-up
    with the send reserved in it, and the same look-up alone, alternated; the median of the
    pairs' differences. Each reservation is given back after its timing."""
    from sqlalchemy import text

    from pactra_gateway.bootstrap import bootstrap
    from pactra_gateway.config import GatewaySettings
    from pactra_gateway.domain import quotas
    from pactra_gateway.service_layer import accounts

    # The gateway's own settings, from the stack's environment (its plans, its clock file).
    gw = bootstrap(GatewaySettings(**{k[len("PACTRA_"):].lower(): v for k, v in stack.env.items()
                                      if k.startswith("PACTRA_")}), require_secrets=False)
    key = client.headers["Authorization"].partition(" ")[2]
    alone, reserving = [], []
    for agreement_id in agreement_ids:
        ask = replace(quotas.send(agreement_id), source_id=f"bench:{os.urandom(8).hex()}")
        started = time.perf_counter()
        caller, reservation = accounts.authenticate_reserving(key, gw.uow(), ask)
        reserving.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        accounts.authenticate(key, gw.uow())
        alone.append((time.perf_counter() - started) * 1000)
        if caller is None or reservation is None:
            raise RuntimeError(f"{agreement_id}: nothing reserved with the key (no signer count?)")
        gw.usage.release(reservation.source_id, reservation.metrics)
    # For scale: one bare round trip to the same database on this machine now.
    trips = []
    one_statement = gw.usage.engine.execution_options(isolation_level="AUTOCOMMIT")  # no BEGIN
    for _ in range(len(agreement_ids)):
        started = time.perf_counter()
        with one_statement.connect() as conn:
            conn.execute(text("SELECT 1"))
        trips.append((time.perf_counter() - started) * 1000)
    gw.usage.engine.dispose()
    print(f"  in-process p50: the key look-up {statistics.median(alone):.2f} ms, with the send "
          f"reserved in it {statistics.median(reserving):.2f} ms; one database round trip "
          f"{statistics.median(trips):.2f} ms (for scale)")
    return statistics.median([r - a for r, a in zip(reserving, alone, strict=True)])
