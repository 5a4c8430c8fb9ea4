"""``make bench``: full agreement life cycles against the real platform, measured.

Prints agreements/s and the p50/p95 time from the last signature to the receipt being
available, the gateway's throughput on a forwarded ``GET /v1/agreements/{id}`` next to a bare
Flask app under the same gunicorn settings, and how much a 20 MiB upload grows the memory of
Pactra's own processes; last, on a stack of its own, issue 15's export of a 1 GiB workspace
and a workspace's deletion (bench_rights; ``--no-rights`` skips it). Figures, not assertions:
compare them with the targets in the README.
"""

import argparse
import contextlib
import io
import os
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from . import (
    bench_compare,
    bench_http,
    bench_openloop,
    bench_quotas,
    bench_rights,
    bench_scale,
    bench_webhooks,
)
from .bench_compare import figure
from .stack import Stack
from .testing import MAILBOXES, confirm_email, unique_email
from .webhook_receiver import running_receiver


def small_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(4):
        writer.add_blank_page(width=612, height=792)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def large_pdf(size: int) -> bytes:
    """A valid PDF of about ``size`` bytes: one page and an incompressible attachment."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=612, height=792)
    writer.add_attachment("payload.bin", os.urandom(size))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


class Client:
    def __init__(self, gateway: str) -> None:
        self.gateway = gateway
        self.http = requests.Session()
        email = self.email = unique_email("bench")
        account = self.http.post(gateway + "/v1/signup", json={
            "name": "Bench", "email": email, "workspace_name": "Bench"}, timeout=30).json()
        self.headers = {"Authorization": f"Bearer {account['api_key']['key']}"}
        # Until its owner confirms their address, a workspace sends only to that address.
        if mailbox := MAILBOXES.get(gateway.rstrip("/")):
            confirm_email(gateway, mailbox, email)

    def call(self, method: str, path: str, expect: int = 200, **kwargs) -> requests.Response:
        response = self.http.request(method, self.gateway + path, headers={
            **self.headers, **kwargs.pop("headers", {})}, timeout=60, **kwargs)
        if response.status_code != expect:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response


def life_cycle(client: Client, pdf: bytes) -> tuple[float, float]:
    """One agreement from upload to receipt; returns (total seconds, last signature -> receipt)."""
    started = time.perf_counter()
    document = client.call("POST", "/v1/documents?filename=bench.pdf", 201, data=pdf,
                           headers={"Content-Type": "application/pdf"}).json()
    signers = [{"name": f"Signer {i}", "email": unique_email(f"s{i}")} for i in range(2)]
    fields = [{"signer_email": s["email"], "type": "signature", "page": 1, "x": 72, "y": 600 - 60 * i,
               "width": 180, "height": 40} for i, s in enumerate(signers)]
    agreement = client.call("POST", "/v1/agreements", 201, json={
        "title": "Bench agreement", "document_id": document["id"], "signers": signers,
        "fields": fields}).json()
    client.call("POST", f"/v1/agreements/{agreement['id']}/send")
    for signer in agreement["signers"]:
        link = client.call("POST", f"/v1/agreements/{agreement['id']}/signers/{signer['id']}/link").json()
        signed = client.http.post(link["url"] + "/sign", timeout=60, json={
            "consent": True, "signature": {"type": "typed", "text": signer["name"]}})
        if signed.status_code != 200:
            raise RuntimeError(f"sign: {signed.status_code} {signed.text[:300]}")
    last_signature = time.perf_counter()
    while True:
        # As an integration would: one request that waits for the receipt (Prefer: wait).
        receipt = client.http.get(f"{client.gateway}/v1/agreements/{agreement['id']}/receipt",
                                  headers={**client.headers, "Prefer": "wait=20"}, timeout=60)
        if receipt.status_code == 200:
            break
        if time.perf_counter() - last_signature > 60:
            raise RuntimeError(f"no receipt after 60 s: {receipt.status_code} {receipt.text[:300]}")
        if "Preference-Applied" not in receipt.headers:
            time.sleep(0.1)  # every waiting place was taken: poll, ten times a second
    done = time.perf_counter()
    return done - started, done - last_signature


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        queue.extend(children.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pactra_cpu(stack: Stack) -> dict[str, float]:
    """CPU seconds used so far by each of Pactra's processes (with their children)."""
    return {name: sum(cpu_seconds(pid) for pid in descendants(process.pid))
            for name, process in stack.processes.items()}


def machine_cpu(stack: Stack) -> dict[str, float]:
    """CPU seconds so far of what the platform leans on, and of this benchmark's own clients:
    the whole machine's budget is shared with them."""
    shared = {"postgres": 0.0, "rabbitmq": 0.0}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "comm").read_text().strip()
            except OSError:
                continue
            if command == "postgres":
                shared["postgres"] += cpu_seconds(int(entry.name))
            elif command == "beam.smp":
                shared["rabbitmq"] += cpu_seconds(int(entry.name))
    helpers = {"object store": stack.s3, "mailbox": stack.mailbox}
    for name, process in helpers.items():
        if process is not None:
            shared[name] = sum(cpu_seconds(pid) for pid in descendants(process.pid))
    shared["benchmark clients"] = time.process_time()
    return shared


def settle(stack: Stack, window: float = 0.5, quiet: float = 0.05, patience: float = 60.0) -> float:
    """Wait until Pactra's processes are idle (under ``quiet`` of a core together): the work
    the life cycles left queued (the last emails, say) is done. Returns the seconds waited."""
    started = time.perf_counter()
    before = sum(pactra_cpu(stack).values())
    while time.perf_counter() - started < patience:
        time.sleep(window)
        now = sum(pactra_cpu(stack).values())
        if now - before < quiet * window:
            break
        before = now
    return time.perf_counter() - started


def pactra_memory(stack: Stack) -> dict[str, int]:
    return {name: sum(rss_kib(pid) for pid in descendants(process.pid))
            for name, process in stack.processes.items()}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def life_cycle_phase(stack, clients: list[Client], pdf: bytes, args: argparse.Namespace,
                     after_run: Callable[[], object] | None = None) -> dict[str, dict]:
    """The closed loop: ``args.agreements`` life cycles by ``args.clients`` concurrent clients;
    agreements/s, signature -> receipt, and the CPU per agreement of each process. ``stack`` is a
    :class:`Stack` or a baseline's (bench_compare.BaselineStack): URLs and process ids."""
    cpu_before, shared_before = pactra_cpu(stack), machine_cpu(stack)
    started = time.perf_counter()
    with ThreadPoolExecutor(args.clients) as pool:
        results = list(pool.map(lambda i: life_cycle(clients[i % args.clients], pdf),
                                range(args.agreements)))
    elapsed = time.perf_counter() - started
    to_receipt = [r[1] * 1000 for r in results]
    print(f"life cycles: {args.agreements} agreements (upload, 2 signers, sign, receipt) with "
          f"{args.clients} concurrent clients in {elapsed:.1f} s")
    print(f"  agreements/s                     {args.agreements / elapsed:8.1f}   (target >= 10)")
    print(f"  last signature -> receipt p50    {statistics.median(to_receipt):8.0f} ms")
    print(f"  last signature -> receipt p95    {percentile(to_receipt, 0.95):8.0f} ms   (at saturation)")
    print(f"  whole life cycle p50             {statistics.median(r[0] for r in results) * 1000:8.0f} ms")
    if after_run is not None:
        after_run()
    # The CPU figures include what the life cycles left queued; the GET measurement below
    # starts on a quiet platform, as the floor's does.
    waited = settle(stack)
    cpu_after, shared_after = pactra_cpu(stack), machine_cpu(stack)
    print(f"  queued work done {waited:.1f} s after the last receipt")
    budget = elapsed * (os.cpu_count() or 1) * 1000 / args.agreements
    print(f"  CPU per agreement, in ms (the machine had {budget:.0f} ms of core time per agreement)")
    figures = {"agreements_per_s": figure(args.agreements / elapsed, "/s", "higher",
                                          "agreements/s (closed loop)")}
    total = 0.0
    for label, before, after in (("Pactra's processes", cpu_before, cpu_after),
                                 ("what they lean on", shared_before, shared_after)):
        spent = {name: (after[name] - before.get(name, 0.0)) * 1000 / args.agreements for name in after}
        print(f"    {label:20} {sum(spent.values()):5.0f}: " + ", ".join(
            f"{name} {ms:.0f}" for name, ms in sorted(spent.items(), key=lambda i: -i[1])))
        total += sum(spent.values())
        key = "pactra" if label.startswith("Pactra") else "shared"
        figures[f"cpu_{key}_ms"] = figure(sum(spent.values()), "ms", "lower", f"CPU/agreement: {label}")
        for name, ms in sorted(spent.items()):
            if name != "benchmark clients":
                figures[f"cpu_{name.replace(' ', '_')}_ms"] = figure(ms, "ms", "lower",
                                                                    f"CPU/agreement: {name}")
    # The clients' own CPU is the benchmark's, not the platform's.
    clients_cpu = shared_after["benchmark clients"] - shared_before["benchmark clients"]
    spent_clients = clients_cpu * 1000 / args.agreements
    figures["cpu_all_ms"] = figure(total - spent_clients, "ms", "lower",
                                   "CPU/agreement: all processes (not the clients)")
    return figures


def core_phases(stack, clients: list[Client], pdf: bytes, args: argparse.Namespace,
                after_run: Callable[[], object] | None = None, label: str = "") -> dict[str, dict]:
    """What is measured on this tree and on a baseline alike: the closed-loop life cycles (with
    CPU), the forwarded GET against the floor (wrk), the open loop at half the maximum rate."""
    # Others' work on the machine moves every figure: say how busy it was at each start.
    print(f"machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    figures = life_cycle_phase(stack, clients, pdf, args, after_run)
    agreement_id = clients[0].call("GET", "/v1/agreements?limit=1").json()["data"][0]["id"]
    # The floor runs under the settings the gateway actually runs with (its process table).
    settings = bench_http.running_gunicorn(stack.processes["gateway"].pid)
    figures |= bench_http.measure(stack.gateway_url, stack.direct_gateway_url, agreement_id,
                                  clients[0].headers, settings, args.seconds, label)
    figures |= bench_openloop.phase(stack.gateway_url, clients, pdf, figures["agreements_per_s"]["value"],
                                    args.open_loop_agreements)
    return figures


def start_clients(gateway: str, count: int) -> list[Client]:
    return [Client(gateway) for _ in range(count)]


def baseline(args: argparse.Namespace, extra_env: dict[str, str], pdf: bytes) -> tuple[str, dict[str, dict]]:
    """The same core phases on the baseline's own stack (bench_compare explains how)."""
    folder = bench_compare.prepare(args.base, Path(args.base_dir) if args.base_dir else None)
    base = bench_compare.BaselineStack(folder, extra_env)
    print(f"\n--- baseline {base.commit} ({folder}): its own code, its own stack ---", flush=True)
    try:
        MAILBOXES.update(base.mailboxes)
        clients = start_clients(base.gateway_url, args.clients)
        time.sleep(1.0)  # let workspace.created reach signing before the first agreement
        life_cycle(clients[0], pdf)  # warm-up, as for the current tree
        return base.commit, core_phases(base, clients, pdf, args, label=" (baseline)")
    finally:
        for url in (base.gateway_url, base.direct_gateway_url):
            MAILBOXES.pop(url, None)
        base.close()


def rate_limits() -> dict[str, str]:
    """The bench's stacks' environment: Pactra's default gunicorn settings (the Procfile,
    WEB_CONCURRENCY as `make run` sets it), for the stack's APIs as for `make run`'s (the floor
    then reads what the gateway runs with), and rate limits no measurement reaches."""
    defaults = bench_http.pactra_defaults()
    return {"PACTRA_RATE_LIMIT_PER_KEY": "100000/second", "PACTRA_RATE_LIMIT_PER_IP": "100000/second",
            "WEB_CONCURRENCY": str(defaults.workers), "PACTRA_API_THREADS": str(defaults.threads)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agreements", type=int, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0, help="per throughput measurement (wrk)")
    parser.add_argument("--open-loop-agreements", type=int, default=40,
                        help="agreements started in the open-loop phase")
    parser.add_argument("--json", type=Path, help="also write the figures here (bench_compare reads them)")
    parser.add_argument("--base", help="also measure this commit (a git worktree in .pactra/bench/), "
                        "then print the ratios new/base")
    parser.add_argument("--base-dir", help="as --base, with a checkout already made (its .venv too)")
    parser.add_argument("--base-json", type=Path, help="print ratios to figures saved earlier by --json")
    parser.add_argument("--scale-replicas", type=int, default=3,
                        help="run the life cycles again with this many replicas of every worker (0: skip)")
    parser.add_argument("--rights", action=argparse.BooleanOptionalAction, default=True,
                        help="the rights phase (bench_rights: a 1 GiB export, a deletion; long)")
    bench_rights.add_options(parser)
    args = parser.parse_args(argv)
    bench_http.require_wrk()
    limits = rate_limits()
    print("figures from a machine shared with others' work: noisy; compare ratios measured in one run")
    stack = Stack.create(limits)
    receivers = contextlib.ExitStack()
    figures: dict[str, dict] = {}
    pdf = small_pdf()
    try:
        stack.start_all()
        gateway = stack.gateway_url
        clients = start_clients(gateway, args.clients)
        # Each workspace tells a local receiver when its agreements complete.
        hooks = receivers.enter_context(running_receiver())
        for client in clients:
            bench_webhooks.subscribe(client, hooks.url, ["agreement.completed"])
        time.sleep(1.0)  # let workspace.created reach signing before the first agreement
        life_cycle(clients[0], pdf)  # warm-up: first key, first seal certificate, connections
        completed_to_webhook: list[float] = []

        # Each phase measured on this tree, then (BASE=<commit>) on the baseline's own stack.
        figures = core_phases(stack, clients, pdf, args, after_run=lambda: completed_to_webhook.extend(
            bench_webhooks.completion_latencies_ms(hooks)))

        before = pactra_memory(stack)
        big = large_pdf(20 * 1024 * 1024)
        clients[0].call("POST", "/v1/documents?filename=big.pdf", 201, data=big,
                        headers={"Content-Type": "application/pdf"})
        after = pactra_memory(stack)
        growth = {name: (after[name] - before.get(name, 0)) / 1024 for name in after}
        worst = max(growth, key=growth.get)
        print(f"20 MiB upload ({len(big) / 1048576:.1f} MiB): largest RSS growth {growth[worst]:.1f} MiB "
              f"in {worst}   (target <= 64 MiB)")
        for name in sorted(growth):
            print(f"  {name:20} {before[name] / 1024:7.1f} -> {after[name] / 1024:7.1f} MiB")

        bench_quotas.run(stack, clients[0], pdf)

        bench_webhooks.report(
            completed_to_webhook,
            bench_webhooks.deliveries_per_second(stack, clients[0], hooks),
            bench_webhooks.slow_neighbour_ms(stack, clients[0],
                                             receivers.enter_context(running_receiver()), hooks))
    finally:
        receivers.close()
        stack.close()
        if figures and args.scale_replicas > 1:
            bench_scale.run(limits, pdf, args, figures["agreements_per_s"]["value"])
        # Once the core phases are measured, a later phase's failure (it still fails the run)
        # does not lose the comparison with the baseline.
        if figures:
            compare(args, figures, limits, pdf)
        # Last, on its own stack: a gigabyte's workspace would move the other phases' figures.
        if figures and args.rights:
            bench_rights.run(args, limits)
    return 0


def compare(args: argparse.Namespace, figures: dict[str, dict], extra_env: dict[str, str],
            pdf: bytes) -> None:
    """Write this tree's figures (``--json``); measure the baseline and print the ratios."""
    if args.json:
        bench_compare.save(args.json, figures, {"commit": bench_compare.current_commit()})
    if args.base or args.base_dir:
        commit, base_figures = baseline(args, extra_env, pdf)
        if args.json:
            bench_compare.save(args.json.with_suffix(".base.json"), base_figures, {"commit": commit})
        bench_compare.print_ratios(figures, base_figures, commit)
    if args.base_json:
        base_meta, base_figures = bench_compare.load(args.base_json)
        bench_compare.print_ratios(figures, base_figures, base_meta.get("commit", str(args.base_json)))


if __name__ == "__main__":
    sys.exit(main())
