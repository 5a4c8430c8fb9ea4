"""``make bench``'s open-loop phase: latency below saturation, without coordinated omission.

Agreements are started at a fixed rate (half the maximum the closed-loop phase measured), each
at its planned time on a thread of its own, whatever the earlier ones are doing: a slow answer
does not hold the next agreement back, as it would in a closed loop (where the client waits and
so never measures the queue it would have met). Each request's latency runs from when it was
due: the first request of a life cycle from the planned start (so a late scheduler counts against
the platform, not in its favour), every later one from the end of the previous step.
"""

import math
import re
import threading
import time
from collections.abc import Callable, Sequence

import requests

from .bench_compare import figure
from .testing import unique_email

SHARES = (0.5, 0.95, 0.99)


def schedule(rate: float, count: int) -> list[float]:
    """The planned start of each of ``count`` life cycles, in seconds from the phase's start,
    at ``rate`` per second: evenly spaced, whatever happens to the earlier ones."""
    if rate <= 0 or not math.isfinite(rate):
        raise ValueError(f"an open loop needs a positive rate, not {rate}")
    return [i / rate for i in range(max(count, 0))]


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile: the smallest value with at least ``share`` of all at or below
    it (with 40 samples, p99 is the largest: say how many there were)."""
    if not values:
        raise ValueError("no values")
    if not 0 < share <= 1:
        raise ValueError(f"share must be in (0, 1], not {share}")
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def run(start: Callable[[int, float], None], planned: Sequence[float], *,
        clock: Callable[[], float] = time.perf_counter, sleep: Callable[[float], None] = time.sleep
        ) -> list[float]:
    """Call ``start(index, due)`` on a new thread at each planned offset (``due`` is the planned
    time on ``clock``); wait for all of them. Returns how late each was started, in seconds."""
    origin = clock()
    threads, lateness = [], []
    for index, offset in enumerate(planned):
        due = origin + offset
        if (wait := due - clock()) > 0:
            sleep(wait)
        lateness.append(max(clock() - due, 0.0))
        thread = threading.Thread(target=start, args=(index, due), daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return lateness


class Recorder:
    """Latencies in ms by name, and failures, from many threads."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {}
        self.failures: list[str] = []
        self._lock = threading.Lock()

    def record(self, name: str, milliseconds: float) -> None:
        with self._lock:
            self.latencies.setdefault(name, []).append(milliseconds)

    def fail(self, reason: str) -> None:
        with self._lock:
            self.failures.append(reason)


SERVER_TIMING = re.compile(r"(?:^|,)\s*([\w-]+);dur=([0-9.]+)")
# The gateway's own timings (Server-Timing): ``auth``, the API key's look-up (a live send's quota
# decision is made in it), and ``quota``, what the quota gate did besides. A send's sum against
# a GET's ``auth`` (the same look-up, no decision), both in this loop, is what quotas add.
SEND_GATE = "send: key + quota (gateway)"
GET_GATE = "GET: key (gateway)"


def gate_ms(response: requests.Response) -> float | None:
    """The gateway's key look-up and quota decision for ``response``, as its Server-Timing
    says (None from a commit that sends no such header)."""
    timings = {name: float(dur) for name, dur in
               SERVER_TIMING.findall(response.headers.get("Server-Timing", ""))}
    if "auth" not in timings and "quota" not in timings:
        return None
    return timings.get("auth", 0.0) + timings.get("quota", 0.0)


def life_cycle(gateway: str, headers: dict[str, str], pdf: bytes, due: float, recorder: Recorder) -> None:
    """One agreement, upload to receipt and sealed PDF, with its own connections; records each
    request's latency from when it was due (see the module's docstring)."""
    http = requests.Session()
    pending = due

    def timed(name: str | None, method: str, url: str, expect: int, **kwargs) -> requests.Response:
        nonlocal pending
        response = http.request(method, url, timeout=60, **kwargs)
        end = time.perf_counter()
        if name is not None:
            recorder.record(name, (end - pending) * 1000)
        pending = end
        if response.status_code != expect:
            raise RuntimeError(f"{method} {url}: {response.status_code} {response.text[:200]}")
        return response

    try:
        document = timed("POST /v1/documents", "POST", f"{gateway}/v1/documents?filename=bench.pdf", 201,
                         data=pdf, headers={**headers, "Content-Type": "application/pdf"}).json()
        signers = [{"name": f"Signer {i}", "email": unique_email(f"o{i}")} for i in range(2)]
        fields = [{"signer_email": s["email"], "type": "signature", "page": 1, "x": 72, "y": 600 - 60 * i,
                   "width": 180, "height": 40} for i, s in enumerate(signers)]
        agreement = timed("POST /v1/agreements", "POST", f"{gateway}/v1/agreements", 201,
                          headers=headers, json={
            "title": "Bench agreement", "document_id": document["id"], "signers": signers,
            "fields": fields}).json()
        url = f"{gateway}/v1/agreements/{agreement['id']}"
        # As an integration checks what it made: the forwarded GET.
        got = timed("GET /v1/agreements/{id}", "GET", url, 200, headers=headers)
        sent = timed("POST .../send", "POST", url + "/send", 200, headers=headers)
        # The gateway's own timings of the key look-up, with and without the send's quota
        # decision (issue 16: it adds <= 1 ms p50), here below saturation; a commit without
        # the header records nothing.
        for name, answer in ((SEND_GATE, sent), (GET_GATE, got)):
            if (took := gate_ms(answer)) is not None:
                recorder.record(name, took)
        for signer in agreement["signers"]:
            link = timed(None, "POST", f"{url}/signers/{signer['id']}/link", 200, headers=headers).json()
            timed("POST /s/{token}/sign", "POST", link["url"] + "/sign", 200, json={
                "consent": True, "signature": {"type": "typed", "text": signer["name"]}})
        last_signature = time.perf_counter()
        while True:
            receipt = http.get(url + "/receipt", headers={**headers, "Prefer": "wait=20"}, timeout=60)
            if receipt.status_code == 200:
                break
            if time.perf_counter() - last_signature > 60:
                raise RuntimeError(f"no receipt after 60 s: {receipt.status_code}")
            if "Preference-Applied" not in receipt.headers:
                time.sleep(0.02)  # every waiting place was taken: poll
        recorder.record("last signature -> receipt", (time.perf_counter() - last_signature) * 1000)
        while (sealed := http.get(url + "/signed.pdf", headers=headers, timeout=60)).status_code == 409:
            if time.perf_counter() - last_signature > 60:
                raise RuntimeError("no signed.pdf 60 s after the last signature")
            time.sleep(0.02)  # the evidence is still being issued
        if sealed.status_code != 200:
            raise RuntimeError(f"signed.pdf: {sealed.status_code} {sealed.text[:200]}")
        finished = time.perf_counter()
        recorder.record("last signature -> signed.pdf", (finished - last_signature) * 1000)
        recorder.record("whole life cycle", (finished - due) * 1000)
    except Exception as error:  # a failed life cycle is counted and shown, not fatal
        recorder.fail(str(error)[:300])
    finally:
        http.close()


TARGETS = {"last signature -> signed.pdf": "p95 < 1000", "POST /v1/agreements": "p99 < 100",
           "GET /v1/agreements/{id}": "p99 < 50"}

FIGURE_NAMES = {"last signature -> receipt": "receipt", "last signature -> signed.pdf": "signed_pdf",
                "POST /v1/agreements": "post_agreements", "GET /v1/agreements/{id}": "get_agreement",
                "whole life cycle": "life_cycle"}


def phase(gateway: str, clients: Sequence, pdf: bytes, maximum: float, count: int) -> dict[str, dict]:
    """Start ``count`` agreements at half of ``maximum`` agreements/s; print and return the
    latencies. ``clients`` give the workspaces' API keys (``.headers``), used in turn."""
    rate = maximum / 2
    recorder = Recorder()
    planned = schedule(rate, count)
    started = time.perf_counter()
    lateness = run(lambda index, due: life_cycle(gateway, clients[index % len(clients)].headers, pdf, due,
                                                 recorder), planned)
    elapsed = time.perf_counter() - started
    print(f"open loop: {count} agreements started at {rate:.2f}/s (half the measured {maximum:.2f}/s) in "
          f"{elapsed:.1f} s; latency from each request's due time, nearest-rank percentiles")
    print(f"  {'':32} {'n':>4} {'p50':>7} {'p95':>7} {'p99':>7}  ms")
    figures = {}
    for name, key in FIGURE_NAMES.items():
        values = recorder.latencies.get(name, [])
        if not values:
            continue
        points = [percentile(values, share) for share in SHARES]
        target = f"   (target {TARGETS[name]})" if name in TARGETS else ""
        print(f"  {name:32} {len(values):4} " + " ".join(f"{p:7.0f}" for p in points) + target)
        for share, point in zip(SHARES, points, strict=True):
            figures[f"open_{key}_p{round(share * 100)}_ms"] = figure(
                point, "ms", "lower", f"open loop: {name} p{round(share * 100)}")
    for name, values in recorder.latencies.items():
        if name not in FIGURE_NAMES and name not in (SEND_GATE, GET_GATE):
            print(f"  {name:32} {len(values):4} " + " ".join(f"{percentile(values, s):7.0f}" for s in SHARES))
    gates = {name: recorder.latencies.get(name) for name in (SEND_GATE, GET_GATE)}
    for name, values in gates.items():
        if values:
            print(f"  {name:32} {len(values):4} " + " ".join(f"{percentile(values, s):7.2f}" for s in SHARES)
                  + "   (its Server-Timing)")
    if gates[SEND_GATE] and gates[GET_GATE]:
        added = percentile(gates[SEND_GATE], 0.5) - percentile(gates[GET_GATE], 0.5)
        print(f"  {'quota decision adds, p50':32} {'':4} {added:7.2f}"
              "   (send's key + quota less a GET's key; target <= 1 ms)")
        figures["open_quota_decision_p50_ms"] = figure(added, "ms", "lower",
                                                        "open loop: what a send's quota decision adds, p50")
    print(f"  the scheduler started agreements at most {max(lateness, default=0) * 1000:.0f} ms late "
          f"(counted in the latencies); {len(recorder.failures)} failed" +
          (f": {recorder.failures[0]}" if recorder.failures else ""))
    return figures
