"""``pactra-dev run`` (what ``make run`` calls), ``pactra-dev s3`` (the local S3 store) and
``pactra-dev mailbox`` (the development mailbox)."""

import argparse
import os
import subprocess
import sys
from pathlib import Path

from . import local_s3, secrets_file

STATE_DIR = Path(".pactra")


def _environment() -> None:
    """Defaults for a local run; anything already set in the environment wins."""
    for name, value in secrets_file.ensure(STATE_DIR / "secrets.env").items():
        os.environ.setdefault(name, value)


def run(_: argparse.Namespace) -> int:
    _environment()
    subprocess.run([str(Path(sys.executable).with_name("pactra-migrate"))], check=True)
    honcho = str(Path(sys.executable).with_name("honcho"))
    os.execv(honcho, [honcho, "start", "-f", "Procfile"])
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


def mailbox(_: argparse.Namespace) -> int:
    from .mailbox import run_from_environment

    return run_from_environment()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pactra-dev")
    commands = parser.add_subparsers(required=True)
    commands.add_parser("run", help="migrate, then run every service in the foreground").set_defaults(
        func=run)
    commands.add_parser("s3", help="run the local S3 store in the foreground").set_defaults(func=s3)
    commands.add_parser(
        "mailbox", help="run the development mailbox (SMTP :1025, web :8025) in the foreground",
    ).set_defaults(func=mailbox)
    args = parser.parse_args(argv)
    return args.func(args)
