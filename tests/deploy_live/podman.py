"""Building the images and running deploy/compose.yaml with podman, for `make test-deploy`.

Everything podman does here goes through one containers.conf of this run's own
(CONTAINERS_CONF): the OCI runtime (runc where installed: crun cannot set rlimits in some
sandboxes), explicit rlimits at or below this shell's hard limits (a runtime that asks for more
is refused), and netavark, whose DNS lets each container reach the others by service name.
Nothing of the machine's own podman configuration is changed.
"""

import hashlib
import os
import re
import resource
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pactra_platform.internal_auth import generate_key
from pactra_platform.settings import SERVICES

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
BUILD_BASE = DEPLOY / "base" / "build-base.sh"
INFRASTRUCTURE_IMAGES = ("rabbitmq", "postgresql", "seaweedfs", "nginx")
# The six services, and devtools for the development mailbox.
SERVICE_IMAGES = (*SERVICES, "devtools")
BASE_LABEL = "io.pactra.base-inputs"


class DeployUnavailable(Exception):
    """This machine cannot run the deployment test; the message says why."""


def _limit(kind: int, ceiling: int) -> int:
    _, hard = resource.getrlimit(kind)
    return ceiling if hard == resource.RLIM_INFINITY else min(hard, ceiling)


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


@dataclass
class Podman:
    workdir: Path
    project: str
    public_port: int
    mailbox_port: int
    build_network: str = "host"
    prefix: str = "localhost/pactra"
    base_tag: str = "localhost/pactra/python:3.11-bookworm"
    timings: dict[str, float] = field(default_factory=dict)

    # --- environment

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.logs = self.workdir / "logs"
        self.logs.mkdir(exist_ok=True)
        self.env_dir = self.workdir / "env"
        self.containers_conf = self.workdir / "containers.conf"

    def env(self) -> dict[str, str]:
        return {
            **os.environ,
            "CONTAINERS_CONF": str(self.containers_conf),
            "PACTRA_IMAGE_PREFIX": self.prefix,
            "PACTRA_IMAGE_TAG": "latest",
            "PACTRA_BASE_IMAGE": self.base_tag,
            "PACTRA_ENV_DIR": str(self.env_dir),
            "PACTRA_PUBLIC_PORT": str(self.public_port),
            "PACTRA_MAILBOX_PORT": str(self.mailbox_port),
            "PACTRA_PUBLIC_URL": self.public_url,
        }

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.public_port}"

    @property
    def mailbox_url(self) -> str:
        return f"http://127.0.0.1:{self.mailbox_port}"

    def run(self, *args: str, log: str | None = None, timeout: float = 900,
            check: bool = True) -> subprocess.CompletedProcess:
        """A command with this run's podman configuration; its output to logs/<log> if named."""
        out = (self.logs / log).open("w") if log else subprocess.PIPE
        try:
            result = subprocess.run(args, env=self.env(), cwd=ROOT, stdout=out,
                                    stderr=subprocess.STDOUT, text=True, timeout=timeout, check=False)
        finally:
            if log:
                out.close()
        if check and result.returncode != 0:
            detail = _tail(self.logs / log) if log else result.stdout[-4000:]
            raise AssertionError(f"{' '.join(args[:4])}... exited {result.returncode}:\n{detail}")
        return result

    def podman(self, *args: str, **kwargs: object) -> subprocess.CompletedProcess:
        return self.run("podman", *args, **kwargs)

    # --- probe

    def configure(self) -> None:
        # iptables: netavark builds each container's network with it (without it, every
        # container fails to start with "netavark: No such file or directory").
        missing = [tool for tool in ("podman", "mmdebstrap", "iptables")
                   if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists()]
        if missing:
            raise DeployUnavailable(f"{', '.join(missing)} not installed (Debian: apt-get install "
                                    "podman runc mmdebstrap netavark aardvark-dns catatonit iptables)")
        runtime = "runc" if shutil.which("runc") else "crun"
        nofile = _limit(resource.RLIMIT_NOFILE, 65536)
        # Under the hard limit is not enough everywhere: this sandbox also refuses an nproc
        # above its pid_max (32768). 16384 is plenty for one service's processes and threads.
        nproc = _limit(resource.RLIMIT_NPROC, 16384)
        network = ('[network]\nnetwork_backend = "netavark"\n'
                   if Path("/usr/lib/podman/netavark").exists() or shutil.which("netavark") else "")
        self.containers_conf.write_text(
            "# Written by tests/deploy_live/podman.py for `make test-deploy` only.\n"
            f'[containers]\ndefault_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
            f'{network}[engine]\nruntime = "{runtime}"\n')
        for port in (self.public_port, self.mailbox_port):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    raise DeployUnavailable(f"port {port} is taken: set PACTRA_TEST_DEPLOY_PORT to a "
                                            "free range (it uses that port and the next)")

    def probe(self) -> None:
        """Can podman run a trivial container from the base, under these limits and runtime?"""
        result = self.podman("run", "--rm", "--network", "none", self.base_tag, "python3.11", "-c",
                             "print('ok')", check=False, timeout=120)
        if result.returncode != 0 or result.stdout.strip().splitlines()[-1:] != ["ok"]:
            raise DeployUnavailable(
                "podman cannot run a container here (" + result.stdout.strip()[-600:] + "); see "
                f"{self.containers_conf} for the runtime and rlimits it was given")

    # --- images

    def _timed(self, name: str, started: float) -> None:
        self.timings[name] = round(time.monotonic() - started, 1)

    def base_inputs(self, extra_ca: str | None, sources: str | None) -> str:
        digest = hashlib.sha256(BUILD_BASE.read_bytes())
        for path in (extra_ca, sources):
            if path and Path(path).is_file():
                digest.update(Path(path).read_bytes())
        return digest.hexdigest()[:32]

    def build_base(self) -> bool:
        """The mmdebstrap base, unless the one present was made from the same inputs."""
        started = time.monotonic()
        extra_ca = os.environ.get("PACTRA_BASE_EXTRA_CA")
        if extra_ca is None and Path("/etc/ssl/certs/ca-certificates.crt").exists():
            # This machine's trust store: builds reach PyPI through whatever inspects TLS here.
            extra_ca = "/etc/ssl/certs/ca-certificates.crt"
        sources = os.environ.get("DEBIAN_SOURCES") or "/etc/apt/sources.list.d/debian.sources"
        inputs = self.base_inputs(extra_ca, sources)
        have = self.podman("image", "inspect", "--format", f'{{{{index .Labels "{BASE_LABEL}"}}}}',
                           self.base_tag, check=False, timeout=60)
        if have.returncode == 0 and have.stdout.strip() == inputs:
            self._timed("base (cached)", started)
            return False
        env = {"PACTRA_BASE_LABEL": f"{BASE_LABEL}={inputs}", "PACTRA_BASE_IMAGE": self.base_tag}
        if extra_ca:
            env["PACTRA_BASE_EXTRA_CA"] = extra_ca
        self.run("env", *(f"{k}={v}" for k, v in env.items()), "sh", str(BUILD_BASE), "base",
                 log="base.log", timeout=900)
        self._timed("base", started)
        return True

    def build_images(self) -> None:
        """The infrastructure images (deploy/base) and one image per service (deploy/Dockerfile).
        Docker format: OCI images drop SHELL and HEALTHCHECK. Layers are cached by podman, so
        an unchanged input rebuilds nothing."""
        started = time.monotonic()
        build_args = f"--format docker --network {self.build_network}"
        for name in INFRASTRUCTURE_IMAGES:
            self.run("env", f"PODMAN_BUILD_ARGS={build_args}", f"PACTRA_BASE_IMAGE={self.base_tag}",
                     f"PACTRA_IMAGE_PREFIX={self.prefix}", "sh", str(BUILD_BASE), name,
                     log=f"build-{name}.log", timeout=900)
        self._timed("infrastructure images", started)
        started = time.monotonic()
        for service in SERVICE_IMAGES:
            self.podman("build", *build_args.split(), "--build-arg", f"SERVICE={service}",
                        "--build-arg", f"BASE_IMAGE={self.base_tag}",
                        "-t", f"{self.prefix}/{service}:latest", "-f", "deploy/Dockerfile", ".",
                        log=f"build-{service}.log", timeout=900)
        self._timed("service images", started)

    # --- secrets

    def write_env_files(self) -> None:
        """Fresh secrets for this run: the master key, each service's broker password and
        Ed25519 internal key, and the infrastructure's bootstrap accounts (mode 0600)."""
        postgres, rabbit, s3 = (secrets.token_urlsafe(32) for _ in range(3))
        services = {
            "PACTRA_MASTER_KEY": secrets.token_urlsafe(48),
            "PACTRA_DATABASE_URL": f"postgresql+psycopg://postgres:{postgres}@postgres:5432/",
            "PACTRA_S3_ACCESS_KEY": "pactra",
            "PACTRA_S3_SECRET_KEY": s3,
        }
        for service in SERVICES:
            services[f"PACTRA_{service.upper()}_INTERNAL_KEY"] = generate_key()
            services[f"PACTRA_{service.upper()}_AMQP_PASSWORD"] = secrets.token_urlsafe(24)
        admin = {
            "POSTGRES_PASSWORD": postgres,
            "RABBITMQ_DEFAULT_USER": "pactra-admin",
            "RABBITMQ_DEFAULT_PASS": rabbit,
            "PACTRA_AMQP_URL": f"amqp://pactra-admin:{rabbit}@rabbitmq:5672/",
            "AWS_ACCESS_KEY_ID": "pactra",
            "AWS_SECRET_ACCESS_KEY": s3,
        }
        self.env_dir.mkdir(mode=0o700, exist_ok=True)
        for name, values in (("services.env", services), ("admin.env", admin)):
            path = self.env_dir / name
            path.unlink(missing_ok=True)
            path.touch(mode=0o600)
            path.write_text("".join(f"{k}={v}\n" for k, v in values.items()))

    # --- compose

    def compose(self, *args: str, **kwargs: object) -> subprocess.CompletedProcess:
        tool = os.environ.get("PODMAN_COMPOSE") or shutil.which("podman-compose")
        if not tool:
            raise DeployUnavailable("podman-compose not found: `make test-deploy` installs the "
                                    "pinned one into .tools/podman-compose")
        # No pod: each service its own network namespace, as under Docker Compose (in one pod,
        # SeaweedFS's volume server and nginx would both want port 8080).
        return self.run(tool, "--in-pod", "false", "-p", self.project, "-f",
                        str(DEPLOY / "compose.yaml"), *args, **kwargs)

    def up(self) -> None:
        """The Compose file's own order, in three steps: the infrastructure, the one-shot
        migrations (each waits for the database and the broker itself, then must exit 0), then
        every process and nginx. Each step is `up --no-deps`, because Debian's podman 4.3 cannot
        take the file's depends_on as podman-compose passes it: it ignores `service_healthy`
        (podman-compose needs 4.6 for it) and refuses to start a container whose dependency has
        dependencies of its own ("depends on container ... not found in input list")."""
        started = time.monotonic()
        services = yaml.safe_load((DEPLOY / "compose.yaml").read_text())["services"]
        migrations = sorted(name for name in services if name.endswith("-migrate"))
        infrastructure = sorted(name for name, spec in services.items()
                                if name not in migrations and "depends_on" not in spec)
        rest = sorted(set(services) - set(migrations) - set(infrastructure))
        self.compose("up", "-d", "--no-build", "--no-deps", *infrastructure,
                     log="compose-up-infrastructure.log", timeout=600)
        self.compose("up", "-d", "--no-build", "--no-deps", *migrations,
                     log="compose-up-migrations.log", timeout=600)
        deadline = time.monotonic() + 300
        for name in migrations:
            container = f"{self.project}_{name}_1"
            while (state := self.exit_code(container))[0] not in ("exited", "stopped"):
                if time.monotonic() > deadline:
                    raise AssertionError(f"{name} still {state[0]} after 300 s\n{self.logs_of_all()}")
                time.sleep(1)
            if state[1] != 0:
                raise AssertionError(f"{name} exited {state[1]}\n{self.logs_of_all()}")
        self._timed("infrastructure and migrations", started)
        started = time.monotonic()
        self.compose("up", "-d", "--no-build", "--no-deps", *rest, log="compose-up.log", timeout=600)
        self._timed("compose up", started)

    def containers(self) -> list[str]:
        result = self.podman("ps", "-a", "--filter", f"label=io.podman.compose.project={self.project}",
                             "--format", "{{.Names}}", check=False, timeout=60)
        return sorted(result.stdout.split())

    def exit_code(self, container: str) -> tuple[str, int]:
        result = self.podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}",
                             container, timeout=60)
        status, code = result.stdout.split()
        return status, int(code)

    def logs_of_all(self, lines: int = 30) -> str:
        out = []
        for name in self.containers():
            status = self.podman("inspect", "--format", "{{.State.Status}} {{.State.ExitCode}}",
                                 name, check=False, timeout=60).stdout.strip()
            logs = self.podman("logs", "--tail", str(lines), name, check=False, timeout=60).stdout
            out.append(f"--- {name} ({status})\n{logs.strip()}")
        return "\n".join(out)

    def down(self) -> None:
        """Containers, volumes and the network go; the images stay for the next run."""
        started = time.monotonic()
        self.compose("down", "-v", "-t", "10", log="compose-down.log", timeout=600, check=False)
        leftovers = self.containers()
        if leftovers:
            self.podman("rm", "-f", "-v", *leftovers, check=False, timeout=300)
        volumes = self.podman("volume", "ls", "-q", "--filter",
                              f"label=io.podman.compose.project={self.project}",
                              check=False, timeout=60).stdout.split()
        if volumes:
            self.podman("volume", "rm", "-f", *volumes, check=False, timeout=120)
        networks = [n for n in self.podman("network", "ls", "--format", "{{.Name}}", check=False,
                                           timeout=60).stdout.split()
                    if re.fullmatch(rf"{re.escape(self.project)}_\w+", n)]
        if networks:
            self.podman("network", "rm", "-f", *networks, check=False, timeout=120)
        self._timed("compose down", started)

    def leftovers(self) -> list[str]:
        label = f"label=io.podman.compose.project={self.project}"
        found = self.containers()
        found += self.podman("volume", "ls", "-q", "--filter", label, check=False, timeout=60).stdout.split()
        found += [n for n in self.podman("network", "ls", "--format", "{{.Name}}", check=False,
                                         timeout=60).stdout.split() if n.startswith(f"{self.project}_")]
        return found
