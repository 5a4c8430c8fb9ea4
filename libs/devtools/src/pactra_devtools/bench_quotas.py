"""``make bench``'s quota phase: what the quota decision adds to ``POST /v1/agreements/{id}/send``.

The same stack measures sends twice: as it runs (quotas on: signing asks the gateway to count
the send against the plan before it commits, ``pactra_platform.quotas``), then with signing and
the gateway restarted under ``PACTRA_QUOTAS=off`` (nothing asked; usage still counted from the
events), then on again, so drift of the machine shows as a difference between the two "on"
runs. The bench's workspaces are on a billed plan (the stack's ``PACTRA_DEFAULT_PLAN``), so no
limit ever refuses a send: the decision is made and costs what it costs, it just never says no.
"""

import statistics
import time

from .stack import Stack

RESTARTED = ("signing", "gateway")


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


def _send_ms(client, drafts: list[str]) -> list[float]:
    took = []
    for agreement_id in drafts:
        started = time.perf_counter()
        client.call("POST", f"/v1/agreements/{agreement_id}/send")
        took.append((time.perf_counter() - started) * 1000)
    return took


def _restart(stack: Stack, quotas: str) -> None:
    stack.env["PACTRA_QUOTAS"] = quotas
    for name in RESTARTED:
        stack.stop(name)
        stack.start(name)
    for name in RESTARTED:
        stack.wait_ready(name)


def run(stack: Stack, client, pdf: bytes, count: int = 120) -> None:
    """Prints p50 of send with quotas on, off, and on again; target: on - off <= 1 ms."""
    runs = {}
    for label, quotas in (("on", "on"), ("off", "off"), ("on again", "on")):
        if label != "on":
            _restart(stack, quotas)
        drafts = _drafts(client, pdf, count)
        _send_ms(client, drafts[:10])  # warm-up: connections, caches
        runs[label] = _send_ms(client, drafts[10:])
    stack.env.pop("PACTRA_QUOTAS", None)
    p50 = {label: statistics.median(values) for label, values in runs.items()}
    on = min(p50["on"], p50["on again"])
    print(f"POST /v1/agreements/{{id}}/send, {count - 10} sequential sends per run")
    for label, value in p50.items():
        print(f"  p50 quotas {label:9}              {value:8.2f} ms")
    print(f"  quota check adds (p50)           {on - p50['off']:8.2f} ms   (target <= 1 ms)")
    print(f"  the decision alone, in-process p50 {_decision_ms(stack, client, count):6.2f} ms   "
          "(what the gateway does per send: the signer count, the conditional update)")


def _decision_ms(stack: Stack, client, count: int) -> float:
    """The gateway's part of a send's quota decision, timed in this process against the
    stack's database: less noisy than the difference of two end-to-end runs on a busy machine."""
    from sqlalchemy import text

    from pactra_gateway.bootstrap import bootstrap
    from pactra_gateway.config import GatewaySettings

    # The gateway's own settings, from the stack's environment (its plans, its clock file).
    usage = bootstrap(GatewaySettings(**{k[len("PACTRA_"):].lower(): v for k, v in stack.env.items()
                                         if k.startswith("PACTRA_")}), require_secrets=False).usage
    workspace = client.call("GET", "/v1/workspace").json()
    workspace_id, plan = workspace["id"], usage.catalogue.get(workspace["plan"])
    took = []
    for i in range(count):
        started = time.perf_counter()
        with usage.engine.connect() as conn:
            conn.execute(text("SELECT signers FROM agreement_signers WHERE agreement_id = :a "
                              "AND workspace_id = :w"), {"a": f"agr_bench{i}", "w": workspace_id})
        usage.reserve(workspace_id, f"bench:{time.time_ns()}",
                      {"agreements_sent": 1, "signers_invited": 1}, plan)
        took.append((time.perf_counter() - started) * 1000)
    # For scale: one bare round trip to the same database on this machine now.
    trips = []
    for _ in range(count):
        started = time.perf_counter()
        with usage.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        trips.append((time.perf_counter() - started) * 1000)
    usage.engine.dispose()
    print(f"  one database round trip, p50       {statistics.median(trips):6.2f} ms   (for scale)")
    return statistics.median(took)
