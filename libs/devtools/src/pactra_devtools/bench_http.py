"""``make bench``'s HTTP throughput: ``wrk`` against Pactra's forwarded GET and against the floor.

A Python load generator on these few cores is the bottleneck of what it measures (issue 17):
throughput comes from ``wrk`` (C), with 32 connections, pinned by ``taskset`` to a core of its
own where the machine has more than one. The servers are not pinned (PostgreSQL and RabbitMQ are
shared with everyone on the machine), so wrk still takes its CPU from the same cores: the table
says how much of its core it used.

The floor is what any design of Pactra's shape reaches on these cores: a minimal Flask proxy
(urllib3) in front of a minimal Flask app running one PostgreSQL query (psycopg pool), both under
the gunicorn settings Pactra's gateway actually runs with. Pactra's figure is printed as a ratio
to it, and to the bare app.
"""

import os
import re
import secrets
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
import requests

from . import local_s3
from .bench_compare import figure
from .process_table import procfile
from .processes import stop_group
from .stack import BIN

CONNECTIONS = 32

BARE_APP = '''
from flask import Flask
app = Flask(__name__)
@app.get("/v1/agreements/<agreement_id>")
def agreement(agreement_id):
    return {"id": agreement_id, "status": "sent"}
'''

# gunicorn imports the app in each worker after the fork: one pool per process, as large as its
# threads so that no thread waits for a connection.
QUERY_APP = '''
import os
from flask import Flask, abort
from psycopg_pool import ConnectionPool
app = Flask(__name__)
size = int(os.environ["FLOOR_POOL_SIZE"])
pool = ConnectionPool(os.environ["FLOOR_DSN"], min_size=size, max_size=size, open=True)
@app.get("/v1/agreements/<agreement_id>")
def agreement(agreement_id):
    with pool.connection() as connection:
        row = connection.execute("SELECT id, status FROM agreements WHERE id = %s",
                                 (agreement_id,)).fetchone()
    if row is None:
        abort(404)
    return {"id": row[0], "status": row[1]}
'''

PROXY_APP = '''
import os
import urllib3
from flask import Flask, Response, request
app = Flask(__name__)
upstream = os.environ["FLOOR_UPSTREAM"]
http = urllib3.PoolManager(maxsize=int(os.environ["FLOOR_POOL_SIZE"]))
@app.get("/v1/agreements/<agreement_id>")
def agreement(agreement_id):
    answer = http.request("GET", f"{upstream}/v1/agreements/{agreement_id}",
                          headers={"Authorization": request.headers.get("Authorization", "")})
    return Response(answer.data, status=answer.status,
                    content_type=answer.headers.get("Content-Type"))
'''


@dataclass(frozen=True)
class Gunicorn:
    workers: int
    threads: int

    def __str__(self) -> str:
        return f"{self.workers} worker{'s' * (self.workers != 1)} x {self.threads} threads"


_DEFAULTED = re.compile(r"\$\{(\w+)(?::-([^}]*))?\}")


def expand(word: str, env: dict[str, str]) -> str:
    """A Procfile word with ``${NAME:-default}`` / ``${NAME}`` expanded as the shell would."""
    return _DEFAULTED.sub(lambda m: env.get(m[1]) or (m[2] or ""), word)


def pactra_defaults(env: dict[str, str] | None = None, gateway_line: str | None = None) -> Gunicorn:
    """The gunicorn settings ``make run`` gives the gateway: its Procfile line's ``--workers`` and
    ``--threads`` (expanded with ``env``), else gunicorn's WEB_CONCURRENCY, which ``pactra-dev
    run`` sets to the cores available when it is unset."""
    from .cli import web_concurrency

    env = dict(os.environ if env is None else env)
    words = (gateway_line or procfile()["gateway"]).split()
    found = {flag: expand(words[i + 1], env) for i, flag in enumerate(words[:-1])
             if flag in ("--workers", "-w", "--threads")}
    workers = (found.get("--workers") or found.get("-w") or env.get("WEB_CONCURRENCY")
               or str(web_concurrency()))
    return Gunicorn(int(workers), int(found.get("--threads") or 1))


def running_gunicorn(master_pid: int) -> Gunicorn:
    """What a running gunicorn master actually runs: its worker processes (its children) and the
    ``--threads`` of its command line."""
    words = Path(f"/proc/{master_pid}/cmdline").read_bytes().decode().split("\0")
    threads = int(words[words.index("--threads") + 1]) if "--threads" in words else 1
    workers = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            workers += parent == master_pid
    return Gunicorn(workers, threads)


# --- wrk -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class WrkResult:
    requests: int
    seconds: float
    failures: int  # non-2xx/3xx answers and socket errors: a figure with any is not a throughput
    cpu_seconds: float  # wrk's own CPU time
    core: int | None  # the core it was pinned to

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return (self.requests - self.failures) / self.seconds if self.seconds else 0.0

    @property
    def cpu_share(self) -> float:
        return self.cpu_seconds / self.seconds if self.seconds else 0.0


def parse_wrk(output: str) -> tuple[int, float, int]:
    """(requests, seconds, failures) from wrk's report."""
    done = re.search(r"(\d+) requests in ([\d.]+)(us|ms|s|m)\b", output)
    if done is None:
        raise RuntimeError(f"wrk's report has no request count:\n{output}")
    seconds = float(done[2]) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[done[3]]
    failures = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    if sockets := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output):
        failures += sum(int(n) for n in sockets.groups())
    return int(done[1]), seconds, failures


def wrk_core() -> int | None:
    """The core wrk gets to itself (the last one we may use); None on a single core."""
    cores = sorted(os.sched_getaffinity(0))
    return cores[-1] if len(cores) > 1 else None


def wrk(url: str, seconds: float, headers: dict[str, str] | None = None,
        connections: int = CONNECTIONS) -> WrkResult:
    core = wrk_core()
    # One thread: on one pinned core more threads only take turns.
    command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    command.append(url)
    if core is not None:
        command = ["taskset", "-c", str(core), *command]
    with tempfile.TemporaryFile() as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        # wait4 gives wrk's own CPU time (taskset execs it: same process).
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        output = out.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}): {output}")
    requests_done, elapsed, failures = parse_wrk(output)
    return WrkResult(requests_done, elapsed, failures, usage.ru_utime + usage.ru_stime, core)


def require_wrk() -> None:
    from shutil import which

    if which("wrk") is None:
        raise SystemExit("make bench needs wrk (a load generator written in C): "
                         "`apt-get install wrk` (Debian's package), then run it again")


# --- the floor -----------------------------------------------------------------------------

def _admin_dsn() -> str:
    url = os.environ.get("PACTRA_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/")
    return url.replace("+psycopg", "").rstrip("/") + "/"


class Floor:
    """The four minimal apps (bare, with a query, a proxy in front of each), each under
    ``settings``; their own throwaway database. A context manager."""

    def __init__(self, settings: Gunicorn) -> None:
        self.settings = settings
        self.database = f"pactra_benchfloor_{secrets.token_hex(4)}"
        self.folder = Path(tempfile.mkdtemp(prefix="pactra-floor-"))
        self.processes: list[subprocess.Popen] = []
        self.urls: dict[str, str] = {}

    def __enter__(self) -> "Floor":
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        with psycopg.connect(_admin_dsn() + "postgres", autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{self.database}"')
        dsn = _admin_dsn() + self.database
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute("CREATE TABLE agreements (id text PRIMARY KEY, status text NOT NULL)")
            connection.execute("INSERT INTO agreements SELECT 'agr_' || n, 'sent' "
                               "FROM generate_series(1, 1000) n")
        for name, source in (("bare_app", BARE_APP), ("query_app", QUERY_APP), ("proxy_app", PROXY_APP)):
            (self.folder / f"{name}.py").write_text(source)
        ports = local_s3.free_port_block(4)
        base = {"FLOOR_DSN": dsn, "FLOOR_POOL_SIZE": str(self.settings.threads)}
        self.urls["bare"] = self._run("bare_app", ports[0], base)
        self.urls["query"] = self._run("query_app", ports[1], base)
        for port, upstream in ((ports[2], "bare"), (ports[3], "query")):
            self.urls[f"proxy -> {upstream}"] = self._run(
                "proxy_app", port, {**base, "FLOOR_UPSTREAM": self.urls[upstream]})
        for url in self.urls.values():
            self._wait(url)

    def _run(self, module: str, port: int, extra_env: dict[str, str]) -> str:
        log = open(self.folder / f"{module}-{port}.log", "ab")  # noqa: SIM115 - closed with the process
        self.processes.append(subprocess.Popen(
            [str(BIN / "python"), "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
             "--worker-class", "gthread", "--workers", str(self.settings.workers),
             "--threads", str(self.settings.threads),
             "--no-control-socket", "--chdir", str(self.folder), f"{module}:app"],
            env={**os.environ, **extra_env}, stdout=log, stderr=log, start_new_session=True))
        return f"http://127.0.0.1:{port}"

    def _wait(self, url: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(url + "/v1/agreements/agr_1", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        logs = "\n".join(p.read_text(errors="replace")[-1500:] for p in self.folder.glob("*.log"))
        raise TimeoutError(f"floor app {url} not ready:\n{logs}")

    def __exit__(self, *_exc: object) -> None:
        for process in self.processes:
            stop_group(process, 10.0)
        with psycopg.connect(_admin_dsn() + "postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        for path in self.folder.iterdir():
            path.unlink()
        self.folder.rmdir()


FLOOR_LABELS = {
    "bare": "bare Flask app (a small JSON object)",
    "query": "the same app running one PostgreSQL query",
    "proxy -> bare": "minimal proxy (urllib3) -> bare app",
    "proxy -> query": "minimal proxy -> app with the query: FLOOR",
}


def measure(public_url: str, gateway_url: str, agreement_id: str, headers: dict[str, str],
            settings: Gunicorn, seconds: float, label: str = "") -> dict[str, dict]:
    """The floor's four apps and Pactra's forwarded GET (through its public URL, and straight
    at the gateway), one wrk run each, back to back; printed and returned as figures."""
    path = f"/v1/agreements/{agreement_id}"
    results: dict[str, WrkResult] = {}
    with Floor(settings) as floor:
        for name, url in floor.urls.items():
            results[name] = wrk(url + "/v1/agreements/agr_1", seconds)
    results["pactra public"] = wrk(public_url + path, seconds, headers)
    if gateway_url != public_url:
        results["pactra gateway"] = wrk(gateway_url + path, seconds, headers)
    core = results["bare"].core
    pinned = (f"pinned to core {core} of {os.cpu_count()} (taskset)" if core is not None
              else "unpinned (one core)")
    print(f"HTTP throughput{label}: wrk, {CONNECTIONS} connections, " + pinned
          + f"; the servers are not pinned: they share every core, wrk's too. gunicorn {settings} "
          "(as Pactra's gateway runs)")
    labels = {**FLOOR_LABELS, "pactra public": "Pactra GET /v1/agreements/{id}, via nginx"
              if "pactra gateway" in results else "Pactra GET /v1/agreements/{id} (no nginx here)",
              "pactra gateway": "Pactra GET /v1/agreements/{id}, at the gateway"}
    print(f"  {'what answers':48} {'req/s':>8}  {'wrk CPU':>7}")
    for name, result in results.items():
        failed = f"   {result.failures} FAILED requests: not a throughput" if result.failures else ""
        print(f"  {labels[name]:48} {result.rate:8.0f}  {result.cpu_share:7.2f}{failed}")
    floor_rate, bare_rate = results["proxy -> query"].rate, results["bare"].rate
    public = results["pactra public"].rate
    print(f"  Pactra (as users reach it) / floor            {public / floor_rate:8.2f}   (target >= 0.8)")
    print(f"  Pactra (as users reach it) / bare app         {public / bare_rate:8.2f}")
    figures = {
        "floor_rps": figure(floor_rate, "req/s", "higher", "floor: proxy -> app with a query"),
        "bare_rps": figure(bare_rate, "req/s", "higher", "bare Flask app"),
        "get_public_rps": figure(public, "req/s", "higher", "forwarded GET, as users reach it"),
        "get_public_to_floor": figure(public / floor_rate, "x", "higher", "forwarded GET / floor"),
    }
    if "pactra gateway" in results:
        direct = results["pactra gateway"].rate
        print(f"  Pactra at the gateway / floor                 {direct / floor_rate:8.2f}")
        print(f"  the nginx hop costs                           {1 - public / direct:8.0%}"
              " of the rate at the gateway")
    else:
        # No nginx in front (an older commit): its public figure is the gateway's own, so the
        # gateway-to-gateway comparison still lines up.
        direct = public
    figures["get_gateway_rps"] = figure(direct, "req/s", "higher", "forwarded GET, at the gateway")
    figures["get_gateway_to_floor"] = figure(direct / floor_rate, "x", "higher", "GET at the gateway / floor")
    return figures

