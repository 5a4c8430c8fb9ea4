"""Development secrets: generated once into a git-ignored file, then reused."""

import secrets
from collections.abc import Callable
from pathlib import Path

from pactra_platform.internal_auth import generate_key
from pactra_platform.settings import SERVICES

# Each service's Ed25519 key for signing internal calls (internal_auth.py).
INTERNAL_KEYS = tuple(f"PACTRA_{service.upper()}_INTERNAL_KEY" for service in SERVICES)
# Each service's RabbitMQ password (its user is `<bus_prefix>-<service>`; broker_users.py).
AMQP_PASSWORDS = tuple(f"PACTRA_{service.upper()}_AMQP_PASSWORD" for service in SERVICES)
GENERATED = ("PACTRA_MASTER_KEY", *INTERNAL_KEYS, *AMQP_PASSWORDS)
# How a secret is made when it is not a random token (a file made before a secret existed
# gets just the missing ones; the others stay as they were).
GENERATORS: dict[str, Callable[[], str]] = dict.fromkeys(INTERNAL_KEYS, generate_key)


def ensure(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            name, _, value = line.partition("=")
            if name and value:
                values[name.strip()] = value.strip()
    missing = [name for name in GENERATED if name not in values]
    if missing:
        for name in missing:
            values[name] = GENERATORS.get(name, lambda: secrets.token_urlsafe(48))()
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    return values
