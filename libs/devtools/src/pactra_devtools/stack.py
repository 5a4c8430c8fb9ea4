"""The whole platform as real processes, isolated for one test session.

Its own databases (``PACTRA_DB_PREFIX``), its own RabbitMQ vhost, its own S3 store and
buckets, its own ports: a `make run` on the same machine is never touched. Everything it
made is removed by :meth:`Stack.close`.
"""

import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from pactra_platform import internal_auth
from pactra_platform.db import drop_database
from pactra_platform.migrations import migrate
from pactra_platform.settings import SERVICES, Settings

from . import broker_users, edge, local_s3, process_table, testing
from .processes import stop_group

BIN = Path(sys.executable).parent


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def app_command(service: str, port: int) -> list[str]:
    module = process_table.process(service).module
    # `python -m gunicorn`, not the gunicorn script: a multiprocessing child (the documents
    # service's PDF probe) then does not re-run the parent's main script before its work.
    # Its process count comes from WEB_CONCURRENCY, as the Procfile's lines' does: the stack
    # sets 1 (the suite's tests of per-process state, such as a revoked key forgotten at once,
    # expect one process); a test may ask for more.
    return [str(BIN / "python"), "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--worker-class", "gthread",
            "--threads", "16", "--no-control-socket", "--graceful-timeout", "5",
            # nginx reuses its connections to the gateway: the gateway must not close an idle
            # one before nginx does (the Procfile's line; edge.GATEWAY_KEEP_ALIVE_SECONDS).
            *(["--keep-alive", str(edge.GATEWAY_KEEP_ALIVE_SECONDS)] if service == "gateway" else []),
            f"{module}:create_app()"]


def worker_command(service: str, role: str = "worker") -> list[str]:
    return [str(BIN / "faststream"), "run", f"{process_table.process(f'{service}-{role}').module}:app"]


@dataclass
class Stack:
    env: dict[str, str]
    settings: Settings
    workdir: Path
    vhost: str
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    s3: subprocess.Popen | None = None
    mailbox: subprocess.Popen | None = None
    mailbox_url: str = ""
    edge: subprocess.Popen | None = None

    @classmethod
    def create(cls, extra_env: dict[str, str] | None = None) -> "Stack":
        tag = f"t{secrets.token_hex(4)}"
        workdir = Path(tempfile.mkdtemp(prefix=f"pactra-{tag}-"))
        # The mailbox's two ports and the edge's (nginx) come last so the others stay what
        # they always were.
        ports = local_s3.free_port_block(5 + len(SERVICES) + 3)
        mailbox_smtp_port, mailbox_web_port, public_port = ports[-3:]
        s3_ports = dict(zip(local_s3.PORT_OPTIONS, ports[:5], strict=True))
        service_ports = dict(zip(SERVICES, ports[5:-3], strict=True))
        amqp_base = os.environ.get("PACTRA_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
        vhost = f"pactra-{tag}"
        env = {
            **os.environ,
            "PACTRA_DB_PREFIX": f"pactra_{tag}_",
            "PACTRA_BUS_PREFIX": f"pactra-{tag}",
            "PACTRA_AMQP_URL": amqp_base.rstrip("/") + "/" + vhost,
            # Each service's own broker user (`<bus prefix>-<service>`), made below.
            **{f"PACTRA_{name.upper()}_AMQP_PASSWORD": secrets.token_urlsafe(32) for name in SERVICES},
            "PACTRA_S3_ENDPOINT": f"127.0.0.1:{s3_ports['s3.port']}",
            "PACTRA_S3_ACCESS_KEY": "pactra-test",
            "PACTRA_S3_SECRET_KEY": secrets.token_hex(16),
            "PACTRA_S3_BUCKET_PREFIX": f"{tag}-",
            "PACTRA_MASTER_KEY": secrets.token_urlsafe(48),
            **{f"PACTRA_{name.upper()}_INTERNAL_KEY": internal_auth.generate_key() for name in SERVICES},
            # Every test reaches the platform through nginx, as clients of `make run` do.
            "PACTRA_PUBLIC_URL": f"http://127.0.0.1:{public_port}",
            "PACTRA_PUBLIC_PORT": str(public_port),
            "PACTRA_DELIVERY_LIMIT": "3",
            # Workspaces made by tests and benchmarks bill their overage rather than being
            # refused, so no limit cuts a test or a measurement short; quota tests put their
            # workspace on `free` (pactra-admin set-plan). The clock file lets a test step the
            # billing clock into next month (pactra_gateway.adapters.clock); absent, no offset.
            "PACTRA_DEFAULT_PLAN": "business",
            "PACTRA_CLOCK_FILE": str(workdir / "clock"),
            "WEB_CONCURRENCY": "1",
            # Webhook tests receive on 127.0.0.1 over http, and cannot wait hours for retries
            # (the production schedule is 5 s, 5 min, 30 min ... 24 h).
            "PACTRA_WEBHOOKS_ALLOW_HTTP": "true",
            "PACTRA_WEBHOOKS_ALLOW_LOOPBACK": "true",
            "PACTRA_WEBHOOKS_RETRY_SCHEDULE": "1,1,1,1,1,1,1,1,1",
            # Every test calls from 127.0.0.1: the suite's deliberate 401s and unknown signing
            # links would otherwise lock it out. Tests of these limits set their own.
            "PACTRA_AUTH_FAILURE_LIMIT_PER_IP": "100000/minute",
            # Keyless requests per IP: Schemathesis alone sends hundreds a minute to the public
            # routes, and the next test to sign up would find the window spent.
            "PACTRA_RATE_LIMIT_PER_IP": "100000/minute",
            "PACTRA_TOKEN_LOCKOUT": "100000/hour",
            # Every test signs up from 127.0.0.1 with @example.com addresses; the tests of the
            # signup and recovery limits set their own.
            "PACTRA_SIGNUP_LIMIT_PER_IP": "100000/hour",
            "PACTRA_SIGNUP_LIMIT_PER_DOMAIN": "100000/hour",
            "PACTRA_RECOVER_LIMIT_PER_IP": "100000/hour",
            # Tests and benchmarks send many signers from brand-new workspaces; the test of the
            # new-workspace cap sets its own.
            "PACTRA_NEW_WORKSPACE_SIGNERS_PER_DAY": "0",
            # Deletion tests cannot wait a day's grace, nor minutes for a straggler's retry.
            "PACTRA_DELETION_GRACE_HOURS": "0",
            "PACTRA_DELETION_RETRY_SECONDS": "5",
            "PACTRA_SMTP_URL": f"smtp://127.0.0.1:{mailbox_smtp_port}",
            "PACTRA_MAILBOX_SMTP_PORT": str(mailbox_smtp_port),
            "PACTRA_MAILBOX_WEB_PORT": str(mailbox_web_port),
            # The stack's own mail, not `make run`'s .pactra/mail (`pactra-dev mailbox`'s default).
            "PACTRA_MAILBOX_DIR": str(workdir / "mail"),
            **{f"PACTRA_{name.upper()}_PORT": str(port) for name, port in service_ports.items()},
            **(extra_env or {}),
        }
        if "PACTRA_REDIS_URL" not in (extra_env or {}):
            env.pop("PACTRA_REDIS_URL", None)
        settings = Settings(**{k[len("PACTRA_"):].lower(): v for k, v in env.items()
                               if k.startswith("PACTRA_")})
        _rabbitmqctl("add_vhost", vhost)
        _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        stack = cls(env=env, settings=settings, workdir=workdir, vhost=vhost,
                    mailbox_url=f"http://127.0.0.1:{mailbox_web_port}")
        try:
            broker_users.provision(settings)
            stack._start_mailbox()
            stack.s3 = local_s3.start(workdir / "s3", s3_ports, env["PACTRA_S3_ACCESS_KEY"],
                                      env["PACTRA_S3_SECRET_KEY"], workdir / "s3.log")
            saved = dict(os.environ)
            os.environ.update(env)
            try:
                for service in SERVICES:
                    migrate(settings, service)
            finally:
                os.environ.clear()
                os.environ.update(saved)
        except BaseException:
            stack.close()
            raise
        return stack

    # --- the development mailbox ----------------------------------------------------------

    def _start_mailbox(self, timeout: float = 30.0) -> None:
        log = open(self.workdir / "mailbox.log", "ab")  # noqa: SIM115 - closed with the process
        self.mailbox = subprocess.Popen([str(BIN / "pactra-dev"), "mailbox"], env=self.env,
                                        stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.mailbox.poll() is not None:
                raise RuntimeError(f"mailbox exited: {self.log('mailbox')[-3000:]}")
            try:
                if requests.get(self.mailbox_url + "/api/messages", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"mailbox not ready: {self.log('mailbox')[-3000:]}")
            time.sleep(0.1)

    def messages(self, to: str | None = None) -> list[dict]:
        """The mail the mailbox received (newest first), optionally only that sent to ``to``."""
        response = requests.get(self.mailbox_url + "/api/messages",
                                params={"to": to} if to else None, timeout=10)
        response.raise_for_status()
        return response.json()

    # --- the edge (nginx in front of the gateway) ------------------------------------------

    def start_edge(self) -> None:
        """Run nginx on the public port (``pactra-dev nginx``, as the Procfile does); starting
        the gateway starts it, and :meth:`wait_ready` of the gateway waits for it too."""
        log = open(self.workdir / "nginx.log", "ab")  # noqa: SIM115 - closed with the process
        self.edge = subprocess.Popen(
            [str(BIN / "pactra-dev"), "nginx", "--state-dir", str(self.workdir / "nginx")],
            env=self.env, stdout=log, stderr=log, start_new_session=True)

    def wait_edge(self, timeout: float = 30.0) -> None:
        """Until ``/healthz`` through nginx is 200 (nginx and the gateway both answer)."""
        assert self.edge is not None
        deadline = time.monotonic() + timeout
        while True:
            if self.edge.poll() is not None:
                raise RuntimeError(f"nginx exited: {self.log('nginx')[-3000:]}")
            try:
                if requests.get(self.gateway_url + "/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"nginx not ready: {self.log('nginx')[-3000:]}")
            time.sleep(0.1)

    def stop_edge(self) -> None:
        if self.edge is not None:
            stop_group(self.edge, 10.0)
            self.edge = None

    # --- processes ------------------------------------------------------------------------

    def start(self, name: str) -> subprocess.Popen:
        """Start ``<service>`` (its HTTP API), ``<service>-worker`` or another of its
        background processes (``receipts-issuer``); ``<process>#<n>`` starts one more replica
        of a background process (``signing-worker#2``), with its own log."""
        process_name, _, replica = name.partition("#")
        service, _, role = process_name.partition("-")
        if replica and not role:
            raise ValueError(f"{name}: an API runs once per port; replicas are of workers")
        command = worker_command(service, role) if role else app_command(
            service, self.settings.port_of(service))
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        # Only its own broker password, as a deployment would give it.
        env = {k: v for k, v in self.env.items() if not k.endswith("_AMQP_PASSWORD")
               or k == f"PACTRA_{service.upper()}_AMQP_PASSWORD"}
        process = subprocess.Popen(command, env=env, stdout=log, stderr=log,
                                   start_new_session=True)
        self.processes[name] = process
        if name == "gateway" and self.edge is None:
            self.start_edge()
        if name == "notify-worker":
            # Pactra's mail now reaches this stack's mailbox: testing.signup() confirms owners.
            for url in (self.gateway_url, self.direct_gateway_url):
                testing.MAILBOXES[url] = self.mailbox_url
        return process

    def stop(self, name: str, *, kill: bool = False, timeout: float = 30.0) -> None:
        process = self.processes.pop(name, None)
        if process is not None:
            stop_group(process, timeout, kill=kill)

    def start_all(self, replicas: int = 1) -> None:
        """The Procfile's processes, in its order (each service's API, then its background
        ones), with ``replicas`` of each background process (``signing-worker#2`` ...)."""
        for entry in process_table.processes():
            self.start(entry.name)
            if entry.role != "api":
                for n in range(2, replicas + 1):
                    self.start(f"{entry.name}#{n}")
        for service in process_table.services():
            self.wait_ready(service)
        self.wait_workers()

    def wait_ready(self, service: str, timeout: float = 60.0) -> None:
        url = self.settings.url_of(service) + "/readyz"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes.get(service)
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"{service} exited: {self.log(service)[-3000:]}")
            try:
                if requests.get(url, timeout=2).status_code == 200:
                    if service == "gateway" and self.edge is not None:
                        self.wait_edge()
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"{service} not ready within {timeout}s: {self.log(service)[-3000:]}")

    def wait_workers(self, timeout: float = 60.0) -> None:
        """Wait until every running background process has said FastStream started."""
        deadline = time.monotonic() + timeout
        for name in [n for n in self.processes if "-" in n]:
            while "started" not in self.log(name).lower():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{name} did not start: {self.log(name)[-3000:]}")
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited: {self.log(name)[-3000:]}")
                time.sleep(0.2)

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    @property
    def gateway_url(self) -> str:
        """The public URL: nginx, in front of the gateway."""
        return f"http://127.0.0.1:{self.settings.public_port}"

    @property
    def direct_gateway_url(self) -> str:
        """The gateway itself, behind nginx (its operator routes, /metrics, live here)."""
        return self.settings.url_of("gateway")

    def close(self) -> None:
        for url in (self.gateway_url, self.direct_gateway_url):
            testing.MAILBOXES.pop(url, None)
        self.stop_edge()
        for name in list(self.processes):
            self.stop(name)
        for helper, timeout in ((self.s3, 20.0), (self.mailbox, 10.0)):
            if helper is not None:
                stop_group(helper, timeout)
        for service in SERVICES:
            drop_database(self.settings, service)
        with contextlib.suppress(subprocess.CalledProcessError):
            _rabbitmqctl("delete_vhost", self.vhost)
        broker_users.remove(self.settings)
        if not os.environ.get("PACTRA_KEEP_TEST_LOGS"):
            shutil.rmtree(self.workdir, ignore_errors=True)
