"""Development secrets: generated once into a git-ignored file, then reused."""

import secrets
from pathlib import Path

GENERATED = ("PACTRA_MASTER_KEY", "PACTRA_INTERNAL_SECRET")


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
            values[name] = secrets.token_urlsafe(48)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    return values
