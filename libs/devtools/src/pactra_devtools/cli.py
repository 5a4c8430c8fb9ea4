"""``pactra-dev run`` (what ``make run`` calls), ``pactra-dev s3`` (the local S3 store) and
``pactra-dev mailbox`` (the development mailbox), ``pactra-dev reset`` (what ``make reset``
calls)."""

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from . import local_s3, secrets_file
from .process_table import INFRASTRUCTURE, procfile

STATE_DIR = Path(".pactra")


def _environment() -> None:
    """Defaults for a local run; anything already set in the environment wins."""
    for name, value in secrets_file.ensure(STATE_DIR / "secrets.env").items():
        os.environ.setdefault(name, value)
    # Webhooks to a receiver on this machine over plain http: development only, never a
    # deployment's default (private, link-local and metadata addresses stay refused).
    os.environ.setdefault("PACTRA_WEBHOOKS_ALLOW_HTTP", "true")
    os.environ.setdefault("PACTRA_WEBHOOKS_ALLOW_LOOPBACK", "true")
    # gunicorn reads WEB_CONCURRENCY as its process count: one per core this process may
    # use, each with PACTRA_API_THREADS threads (the Procfile's lines).
    os.environ.setdefault("WEB_CONCURRENCY", str(web_concurrency()))


def web_concurrency() -> int:
    """The API processes' default gunicorn worker count: the cores available to us."""
    try:
        return max(len(os.sched_getaffinity(0)), 1)
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def parse_scale(spec: str, processes: dict[str, str]) -> dict[str, int]:
    """``"signing-worker=3 receipts-worker=3"`` (spaces or commas) -> {name: replicas}.

    Only worker lines scale: an API line binds one fixed port (its processes come from
    WEB_CONCURRENCY instead), and the infrastructure lines are single stores."""
    scale: dict[str, int] = {}
    for item in spec.replace(",", " ").split():
        name, sep, count = item.partition("=")
        if not sep or not count.isdigit():
            raise ValueError(f"SCALE wants name=N items, not {item!r}")
        if name not in processes:
            raise ValueError(f"SCALE names {name!r}, which is not a Procfile line "
                             f"(one of {', '.join(sorted(processes))})")
        if name in INFRASTRUCTURE or "--bind" in processes[name]:
            raise ValueError(f"{name} cannot run as replicas on one machine (it binds a port or "
                             f"holds a store); an API's processes come from WEB_CONCURRENCY")
        scale[name] = int(count)
    return scale


def _ensure_nginx() -> bool:
    """nginx fronts the gateway; a fresh Debian machine run as root gets it as CI does."""
    from .edge import INSTALL_HINT, find_nginx

    if find_nginx() is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("installing nginx (apt-get install nginx) ...", file=sys.stderr)
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        for step in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "nginx"]):
            subprocess.run(step, env=environment, check=False)
    if find_nginx() is None:
        print(INSTALL_HINT, file=sys.stderr)
        return False
    return True


def run(args: argparse.Namespace) -> int:
    _environment()
    try:  # before anything starts: a typo in SCALE fails at once
        scale = parse_scale(args.scale or os.environ.get("SCALE", ""), procfile())
    except ValueError as exc:
        print(f"pactra-dev run: {exc}", file=sys.stderr)
        return 2
    if not _ensure_nginx():
        return 1
    # Each service's own broker user, before pactra-migrate declares the queues they read.
    from pactra_platform.settings import Settings

    from .broker_users import provision

    provision(Settings())
    migrated = subprocess.run([str(Path(sys.executable).with_name("pactra-migrate"))], check=False)
    if migrated.returncode:
        # pactra-migrate said why (a master key that does not fit the databases, say).
        return migrated.returncode
    honcho = str(Path(sys.executable).with_name("honcho"))
    concurrency = ["-c", ",".join(f"{name}={n}" for name, n in scale.items())] if scale else []
    os.execv(honcho, [honcho, "start", "-f", "Procfile", *concurrency])
    return 0


def s3(_: argparse.Namespace) -> int:
    endpoint = os.environ.get("PACTRA_S3_ENDPOINT", "127.0.0.1:8333")
    ports = local_s3.default_ports(int(endpoint.rsplit(":", 1)[1]))
    command = local_s3.command(STATE_DIR / "s3", ports)
    (STATE_DIR / "s3").mkdir(parents=True, exist_ok=True)
    os.environ["AWS_ACCESS_KEY_ID"] = os.environ.get("PACTRA_S3_ACCESS_KEY", "pactra")
    os.environ["AWS_SECRET_ACCESS_KEY"] = os.environ.get("PACTRA_S3_SECRET_KEY", "pactra-dev-secret")
    os.execv(command[0], command)
    return 0


def reset(args: argparse.Namespace) -> int:
    from pactra_platform.settings import Settings

    from .reset import reset as reset_local

    _environment()
    return reset_local(Settings(), STATE_DIR, force=args.force)


def nginx(args: argparse.Namespace) -> int:
    from pactra_platform.settings import Settings

    from .edge import run as run_edge

    return run_edge(Path(args.state_dir), Settings())


def mailbox(_: argparse.Namespace) -> int:
    from .mailbox import run_from_environment

    # `make run`'s mailbox keeps its mail across restarts, until `make reset`.
    os.environ.setdefault("PACTRA_MAILBOX_DIR", str(STATE_DIR / "mail"))

    return run_from_environment()


def backup(args: argparse.Namespace) -> int:
    from pactra_platform.settings import Settings

    from .backup import backup as take
    from .backup import default_folder

    _environment()
    folder = Path(args.dir) if args.dir else default_folder(STATE_DIR)
    manifest = take(Settings(), folder)
    objects = sum(len(b["objects"]) for b in manifest["buckets"].values())
    print(f"backed up {len(manifest['databases'])} databases and {objects} objects into {folder}")
    return 0


def restore(args: argparse.Namespace) -> int:
    from pactra_platform.settings import Settings

    from .backup import restore as put_back

    _environment()
    folder = Path(args.dir)
    if not (folder / "manifest.json").is_file():
        print(f"pactra-dev restore: {folder} holds no backup (manifest.json)", file=sys.stderr)
        return 2
    if not args.force and input(f"Replace every local database and bucket with {folder}? "
                                "[y/N] ").strip().lower() != "y":
        return 1
    put_back(Settings(), folder)
    print(f"restored {folder}")
    return 0


def rewrap(args: argparse.Namespace) -> int:
    from pactra_platform.settings import Settings

    from .rewrap import main as rewrap_main

    return rewrap_main(Settings())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pactra-dev")
    commands = parser.add_subparsers(required=True)
    running = commands.add_parser("run", help="migrate, then run every service in the foreground")
    running.add_argument("--scale", default="", help='replicas of worker lines, e.g. '
                         '"signing-worker=3 notify-worker=2" (default: $SCALE, else one each)')
    running.set_defaults(func=run)
    resetting = commands.add_parser(
        "reset", help="delete the local databases, queues, buckets and mail (asks first)")
    resetting.add_argument("--force", action="store_true", help="do not ask")
    resetting.set_defaults(func=reset)
    backing_up = commands.add_parser(
        "backup", help="dump every database and bucket into a folder (.pactra/backups/<time>)")
    backing_up.add_argument("--dir", help="the folder (made; must be empty)")
    backing_up.set_defaults(func=backup)
    restoring = commands.add_parser(
        "restore", help="replace every database and bucket with a backup (asks first)")
    restoring.add_argument("dir", help="the backup's folder")
    restoring.add_argument("--force", action="store_true", help="do not ask")
    restoring.set_defaults(func=restore)
    edge = commands.add_parser("nginx", help="run nginx in front of the gateway, in the foreground")
    edge.add_argument("--state-dir", default=str(STATE_DIR / "nginx"),
                      help="where its generated configuration and pid file go")
    edge.set_defaults(func=nginx)
    commands.add_parser("s3", help="run the local S3 store in the foreground").set_defaults(func=s3)
    commands.add_parser(
        "mailbox", help="run the development mailbox (SMTP :1025, web :8025) in the foreground",
    ).set_defaults(func=mailbox)
    commands.add_parser(
        "rewrap", help="one-off, idempotent: move data sealed under the master key to "
        "per-workspace keys (prints what it changed)",
    ).set_defaults(func=rewrap)
    args = parser.parse_args(argv)
    return args.func(args)
