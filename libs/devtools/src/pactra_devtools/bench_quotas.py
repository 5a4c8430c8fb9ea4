"""``make bench``'s quota phase: what the quota decision adds to ``POST /v1/agreements/{id}/send``.

Two gateways serve the same stack side by side: the stack's own (quotas on: it reserves the
send against the plan before it forwards it, ``pactra_gateway.entrypoints.quota_gate``) and a
second process of the same code under ``PACTRA_QUOTAS=off`` (nothing decided; usage still
counted from the events). Sends alternate between them, one on, one off, the order flipped
every pair, each straight to its gateway (no nginx in either), so the machine's drift falls on
both alike: it prints the median of the pairs' differences with a 95 % interval, the two medians
beside it. (A difference of two runs minutes apart, as this phase did before, moved by 10 ms
between two runs of the same setting on these shared cores.) A send takes tens of milliseconds,
with a spread wider than one millisecond however it is paired, so the figure held to the target
is the decision itself as the running gateway timed it: its ``Server-Timing: quota;dur=`` on
each send, p50. The bench's workspaces are on a billed plan
(the stack's ``PACTRA_DEFAULT_PLAN``), so no limit ever refuses a send: the decision is made and
costs what it costs, it just never says no.
"""

import os
import random
import statistics
import subprocess
import time
from dataclasses import replace

import requests

from . import local_s3
from .bench_openloop import QUOTA_TIMING  # one reading of the gateway's header
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


def _send_ms(http: requests.Session, gateway: str, headers: dict, agreement_id: str,
             decisions: list[float] | None = None) -> float:
    started = time.perf_counter()
    response = http.post(f"{gateway}/v1/agreements/{agreement_id}/send", headers=headers, timeout=60)
    took = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"send {agreement_id}: {response.status_code} {response.text[:300]}")
    if decisions is not None:
        found = QUOTA_TIMING.search(response.headers.get("Server-Timing", ""))
        if found is None:
            raise RuntimeError("the quotas-on gateway sent no Server-Timing for its decision")
        decisions.append(float(found[1]))
    return took


def _median_ci(values: list[float], rounds: int = 2000) -> tuple[float, float]:
    """A 95 % bootstrap interval of the median (seeded: the same data, the same interval)."""
    pick = random.Random(17)  # noqa: S311 - resampling for statistics, no secret
    medians = sorted(statistics.median(pick.choices(values, k=len(values))) for _ in range(rounds))
    return medians[int(rounds * 0.025)], medians[int(rounds * 0.975) - 1]


def _second_gateway(stack: Stack) -> tuple[subprocess.Popen, str]:
    """The gateway's API once more, on a port of its own, with quotas off."""
    port = local_s3.free_port_block(1)[0]
    env = {k: v for k, v in stack.env.items()
           if not k.endswith("_AMQP_PASSWORD") or k == "PACTRA_GATEWAY_AMQP_PASSWORD"}
    log = open(stack.workdir / "gateway-quotas-off.log", "ab")  # noqa: SIM115 - closed below
    process = subprocess.Popen(app_command("gateway", port), env={**env, "PACTRA_QUOTAS": "off"},
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
    raise RuntimeError("the quotas-off gateway did not start: "
                       + (stack.workdir / "gateway-quotas-off.log").read_text()[-3000:])


def run(stack: Stack, client, pdf: bytes, pairs: int = 150) -> None:
    """Prints p50 of send with quotas on and off, interleaved; target: on - off <= 1 ms."""
    process, off_url = _second_gateway(stack)
    try:
        gateways = {"on": stack.direct_gateway_url, "off": off_url}
        http = requests.Session()
        drafts = _drafts(client, pdf, 2 * (pairs + 10))
        for i, agreement_id in enumerate(drafts[:20]):  # warm-up: connections, caches
            _send_ms(http, gateways["on" if i % 2 else "off"], client.headers, agreement_id)
        took: dict[str, list[float]] = {"on": [], "off": []}
        decisions: list[float] = []
        rest = iter(drafts[20:])
        for i in range(pairs):
            order = ("on", "off") if i % 2 else ("off", "on")
            for label in order:
                started = time.monotonic()
                took[label].append(_send_ms(http, gateways[label], client.headers, next(rest),
                                            decisions if label == "on" else None))
                # Below saturation: each send's cascade (events, emails) done before the next.
                time.sleep(max(0.0, started + PACE_SECONDS - time.monotonic()))
    finally:
        stop_group(process, 10)
    p50 = {label: statistics.median(values) for label, values in took.items()}
    differences = [on - off for on, off in zip(took["on"], took["off"], strict=True)]
    low, high = _median_ci(differences)
    print(f"POST /v1/agreements/{{id}}/send, {pairs} pairs, quotas on and off interleaved "
          f"(two gateways, straight to each), one send every {PACE_SECONDS * 1000:.0f} ms")
    for label, value in p50.items():
        print(f"  p50 quotas {label:3}                    {value:8.2f} ms")
    print(f"  on - off, p50 of the pairs       {statistics.median(differences):8.2f} ms   "
          f"(95 % interval {low:.2f} to {high:.2f}: the sends' own spread)")
    print(f"  quota check adds (p50)           {statistics.median(decisions):8.2f} ms   "
          "(target <= 1 ms; the decision as the running gateway timed it, its Server-Timing)")
    print(f"  the decision alone, in-process p50 {_decision_ms(stack, client, drafts):6.2f} ms   "
          "(what the gateway does per send: one statement, the signer count read with it)")


def _decision_ms(stack: Stack, client, agreement_ids: list[str]) -> float:
    """The gateway's part of a send's quota decision, timed in this process against the
    stack's database: less noisy than end-to-end sends on a busy machine."""
    from sqlalchemy import text

    from pactra_gateway.bootstrap import bootstrap
    from pactra_gateway.config import GatewaySettings
    from pactra_gateway.domain import quotas

    # The gateway's own settings, from the stack's environment (its plans, its clock file).
    usage = bootstrap(GatewaySettings(**{k[len("PACTRA_"):].lower(): v for k, v in stack.env.items()
                                         if k.startswith("PACTRA_")}), require_secrets=False).usage
    workspace = client.call("GET", "/v1/workspace").json()
    workspace_id, plan = workspace["id"], usage.catalogue.get(workspace["plan"])
    took = []
    for i in range(len(agreement_ids)):
        ask = quotas.send(agreement_ids[i])
        started = time.perf_counter()
        counted = usage.reserve_send(workspace_id, replace(ask, source_id=f"bench:{os.urandom(8).hex()}"),
                                     plan)
        took.append((time.perf_counter() - started) * 1000)
        if counted is None:
            raise RuntimeError(f"{agreement_ids[i]}: the gateway has no signer count for it")
    # For scale: one bare round trip to the same database on this machine now.
    trips = []
    one_statement = usage.engine.execution_options(isolation_level="AUTOCOMMIT")  # no BEGIN
    for _ in range(len(agreement_ids)):
        started = time.perf_counter()
        with one_statement.connect() as conn:
            conn.execute(text("SELECT 1"))
        trips.append((time.perf_counter() - started) * 1000)
    usage.engine.dispose()
    print(f"  one database round trip, p50       {statistics.median(trips):6.2f} ms   (for scale)")
    return statistics.median(took)
