"""``make bench``'s rights phase (issue 15): a big workspace's export, and a workspace's deletion.

Export: one workspace of about 1 GiB of documents and 10,000 agreements (seed_workspace says
how it is seeded and what is not), then ``POST /v1/exports``, ``GET /v1/exports/{id}`` until
it is ready, and the archive downloaded through its ``download_url`` (streamed, its SHA-256
checked, nothing kept). Printed: the time from the request to ``ready``, the archive's size,
MB/s (10^6 bytes a second: the archive's bytes, and the documents' bytes as uploaded, over that
time), the download's time, and each Pactra process's largest RSS growth over its value just
before the request (with its children, sampled every 100 ms from the request to the download's
end), against the target "no process grows by more than 64 MiB".

Deletion: another workspace of 1,000 agreements (seeded the same way, a few small documents),
``DELETE /v1/workspace`` with its name, confirmed through the link mailed to the owner (the
stack runs with ``PACTRA_DELETION_GRACE_HOURS=0``: the purge starts at confirmation). Printed:
the time from the confirmation to ``GET /v1/deletions/{id}`` saying ``completed``, and when each
service said ``purged``.

Its own stack: a workspace of a gigabyte and its export would change what the other phases
measure on the same databases and object store. Figures, not assertions.

    python -m pactra_devtools.bench_rights --rights-gib 0.05 --rights-agreements 200
"""

import argparse
import hashlib
import re
import signal
import sys
import threading
import time
from collections.abc import Callable

import requests

from . import seed_workspace
from .stack import Stack

MIB = 1024 * 1024
TARGET_GROWTH_MIB = 64
DELETION_LINK = re.compile(r"https?://[^\s\"<>]*/confirm-deletion/([A-Za-z0-9_-]+)")


def megabytes_per_second(size: int, seconds: float) -> float:
    """MB/s, MB being 10^6 bytes; 0 for no time at all."""
    return size / 1e6 / seconds if seconds > 0 else 0.0


class PeakGrowth:
    """The largest RSS (KiB) each process reached over its baseline: ``observe`` each sample,
    ``growth_mib`` at the end. A process first seen after the baseline has its first sample
    as baseline (a restarted worker's start is not growth)."""

    def __init__(self, baseline: dict[str, int]) -> None:
        self.baseline = dict(baseline)
        self.peak = dict(baseline)
        self.samples = 0

    def observe(self, sample: dict[str, int]) -> None:
        self.samples += 1
        for name, kib in sample.items():
            self.baseline.setdefault(name, kib)
            self.peak[name] = max(self.peak.get(name, kib), kib)

    def growth_mib(self) -> dict[str, float]:
        return {name: (self.peak[name] - self.baseline[name]) / 1024 for name in self.peak}

    def largest(self) -> tuple[str, float]:
        growth = self.growth_mib()
        name = max(growth, key=lambda n: growth[n])
        return name, growth[name]


class RssSampler:
    """A background thread sampling the RSS of each of the stack's processes (with their
    children) every ``interval`` s; the process trees are walked again every ``rewalk`` s
    only, so a sample is a few reads of /proc/<pid>/status."""

    def __init__(self, stack: Stack, interval: float = 0.1, rewalk: float = 2.0) -> None:
        from .bench import pactra_memory

        self.stack, self.interval, self.rewalk = stack, interval, rewalk
        self.growth = PeakGrowth(pactra_memory(stack))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="rss-sampler", daemon=True)

    def _trees(self) -> dict[str, list[int]]:
        from .bench import descendants

        return {name: descendants(process.pid) for name, process in self.stack.processes.items()}

    def _run(self) -> None:
        from .bench import rss_kib

        trees, walked = self._trees(), time.monotonic()
        while not self._stop.wait(self.interval):
            if time.monotonic() - walked > self.rewalk:
                trees, walked = self._trees(), time.monotonic()
            self.growth.observe({name: sum(rss_kib(pid) for pid in pids) for name, pids in trees.items()})

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def wait_for(probe: Callable[[], dict | None], patience: float, interval: float, what: str) -> dict:
    deadline = time.monotonic() + patience
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {patience:.0f} s")
        time.sleep(interval)


def download(url: str) -> tuple[int, str]:
    """The archive streamed and discarded: (bytes, SHA-256 hex)."""
    digest, size = hashlib.sha256(), 0
    with requests.get(url, stream=True, timeout=600) as response:
        if response.status_code != 200:
            raise RuntimeError(f"download: {response.status_code} {response.text[:300]}")
        for chunk in response.iter_content(MIB):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def export_phase(stack: Stack, client, seeded: seed_workspace.Seeded, patience: float) -> None:
    from .bench import settle

    settle(stack)
    with RssSampler(stack) as sampler:
        started = time.perf_counter()
        export_id = client.call("POST", "/v1/exports", 202).json()["id"]

        def ready() -> dict | None:
            shown = client.call("GET", f"/v1/exports/{export_id}").json()
            if shown["status"] == "failed":
                raise RuntimeError(f"the export failed: {shown}")
            return shown if shown["status"] == "ready" else None

        shown = wait_for(ready, patience, 0.5, "the export is ready")
        took = time.perf_counter() - started
        fetched = time.perf_counter()
        size, sha256 = download(shown["download_url"])
        fetch_took = time.perf_counter() - fetched
    if (size, sha256) != (shown["size"], shown["sha256"]):
        raise RuntimeError(f"the download ({size} bytes, {sha256}) is not the export's "
                           f"({shown['size']} bytes, {shown['sha256']})")
    print(f"export of a workspace of {seeded.document_bytes / MIB:.0f} MiB of documents "
          f"({len(seeded.document_ids)}) and {len(seeded.agreement_ids)} agreements "
          f"({seeded.sent} sent):")
    print(f"  request -> ready                 {took:8.1f} s   ({shown['parts_total']} parts)")
    print(f"  archive                          {size / MIB:8.1f} MiB")
    print(f"  archive MB/s                     {megabytes_per_second(size, took):8.1f}   "
          "(archive bytes / request -> ready)")
    print(f"  documents MB/s                   {megabytes_per_second(seeded.document_bytes, took):8.1f}   "
          "(documents' bytes as uploaded / request -> ready)")
    print(f"  download                         {fetch_took:8.1f} s   "
          f"({megabytes_per_second(size, fetch_took):.1f} MB/s, SHA-256 checked)")
    growth = sampler.growth
    worst, most = growth.largest()
    print(f"  largest RSS growth {most:.1f} MiB in {worst}   (target <= {TARGET_GROWTH_MIB} MiB; "
          f"{growth.samples} samples from the request to the download's end)")
    for name in sorted(growth.peak):
        print(f"    {name:20} {growth.baseline[name] / 1024:7.1f} -> peak "
              f"{growth.peak[name] / 1024:7.1f} MiB (+{growth.growth_mib()[name]:.1f})")


def deletion_phase(stack: Stack, client, seeded: seed_workspace.Seeded, patience: float) -> None:
    from .testing import emailed_token

    name = client.call("GET", "/v1/workspace").json()["name"]
    asked = client.call("DELETE", "/v1/workspace", 202, json={"confirm": name}).json()
    deletion_id = asked["deletion_id"]
    token = emailed_token(stack.mailbox_url, client.email, DELETION_LINK, timeout=60)
    started = time.perf_counter()
    confirmed = requests.post(stack.gateway_url + "/v1/deletions/confirm", json={"token": token}, timeout=30)
    if confirmed.status_code != 200:
        raise RuntimeError(f"confirm: {confirmed.status_code} {confirmed.text[:300]}")
    purged_after: dict[str, float] = {}

    def completed() -> dict | None:
        answer = requests.get(f"{stack.gateway_url}/v1/deletions/{deletion_id}", timeout=30)
        if answer.status_code != 200:
            raise RuntimeError(f"deletion status: {answer.status_code} {answer.text[:300]}")
        shown = answer.json()
        for service, state in shown["services"].items():
            if state == "purged":
                purged_after.setdefault(service, time.perf_counter() - started)
        return shown if shown["status"] == "completed" else None

    shown = wait_for(completed, patience, 0.2, "the deletion completes")
    took = time.perf_counter() - started
    print(f"deletion of a workspace of {len(seeded.agreement_ids)} agreements ({seeded.sent} sent) and "
          f"{len(seeded.document_ids)} documents:")
    print(f"  confirmation -> completed        {took:8.1f} s")
    print("  each service purged after (s)    " + ", ".join(
        f"{service} {purged_after.get(service, took):.1f}" for service in sorted(shown["services"])))


def add_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--rights-gib", type=float, default=1.0,
                        help="the exported workspace's documents, in GiB")
    parser.add_argument("--rights-agreements", type=int, default=10_000,
                        help="the exported workspace's agreements")
    parser.add_argument("--rights-deletion-agreements", type=int, default=1_000,
                        help="the deleted workspace's agreements")
    parser.add_argument("--rights-document-mib", type=float, default=20.0,
                        help="each seeded document's size (the upload limit is 25 MiB)")
    parser.add_argument("--rights-sent-share", type=float, default=0.02,
                        help="the share of seeded agreements then sent through the API")


def run(args: argparse.Namespace, extra_env: dict[str, str] | None = None) -> None:
    """The rights phase on its own stack."""
    from .bench import Client

    print(f"\nrights (issue 15): export of {args.rights_gib:g} GiB and {args.rights_agreements} agreements, "
          f"deletion of {args.rights_deletion_agreements} agreements; on a stack of its own", flush=True)
    stack = Stack.create(extra_env)
    try:
        stack.start_all()
        exported, deleted = Client(stack.gateway_url), Client(stack.gateway_url)
        time.sleep(1.0)  # let workspace.created reach signing before the first agreement
        seeded = seed_workspace.seed(stack, exported, total_bytes=int(args.rights_gib * 1024 * MIB),
                                     agreements=args.rights_agreements, sent_share=args.rights_sent_share,
                                     document_mib=args.rights_document_mib, label="export's workspace")
        export_phase(stack, exported, seeded, patience=3600)
        small = seed_workspace.seed(stack, deleted, total_bytes=5 * MIB,
                                    agreements=args.rights_deletion_agreements,
                                    sent_share=args.rights_sent_share, document_mib=1.0,
                                    label="deleted workspace")
        deletion_phase(stack, deleted, small, patience=1800)
    finally:
        stack.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_options(parser)
    args = parser.parse_args(argv)
    from .bench import rate_limits

    # Stopped from outside (a timeout, kill), the stack's processes, databases and vhost are
    # still removed: they run in sessions of their own and would outlive this one.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    run(args, rate_limits())
    return 0


if __name__ == "__main__":
    sys.exit(main())
