"""The one list of Pactra's processes: the root ``Procfile``.

``make run`` runs it under honcho as it is; the test stack (and with it the benchmark) starts
the same processes, each with its own ports and logs; ``make docs`` writes the AsyncAPI
document of each worker it lists. A line is ``<service>`` (the HTTP API), ``<service>-<role>``
(a background process: ``worker``, ``issuer``) or an infrastructure line (``s3``, ``mailbox``,
``nginx``). ``pactra_contracts.services`` lists the same services, with their default ports: a
test holds the two together.

    python -m pactra_devtools.process_table workers   # "<service> <module>:app", one a line
"""

import re
import sys
from dataclasses import dataclass
from pathlib import Path

PROCFILE = Path(__file__).resolve().parents[4] / "Procfile"

# Procfile lines that are not Pactra processes (architecture.md); only workers scale.
INFRASTRUCTURE = frozenset({"s3", "mailbox", "nginx"})

# The application a line runs: gunicorn's 'module:create_app()' or faststream's module:app.
_TARGET = re.compile(r"'?(?P<module>pactra_\w+(?:\.\w+)*):(?P<attribute>\w+)(?:\(\))?'?")


@dataclass(frozen=True)
class Process:
    name: str
    command: str

    @property
    def service(self) -> str | None:
        """The Pactra service it belongs to; None for an infrastructure line."""
        return None if self.name in INFRASTRUCTURE else self.name.partition("-")[0]

    @property
    def role(self) -> str:
        """``api`` for a service's HTTP API, else what follows the dash (``worker``)."""
        return self.name.partition("-")[2] or ("infrastructure" if self.service is None else "api")

    @property
    def module(self) -> str:
        """The module whose application the line runs (``pactra_signing.entrypoints.app``)."""
        match = _TARGET.search(self.command)
        if match is None:
            raise ValueError(f"Procfile line {self.name!r} runs no pactra_* application")
        return match["module"]


def procfile(path: Path = PROCFILE) -> dict[str, str]:
    """The Procfile's lines: process name -> command."""
    lines = {}
    for line in path.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not name.lstrip().startswith("#"):
            lines[name.strip()] = command.strip()
    return lines


def processes(path: Path = PROCFILE) -> list[Process]:
    """Pactra's own processes (not the infrastructure lines), in the Procfile's order."""
    return [Process(name, command) for name, command in procfile(path).items()
            if name not in INFRASTRUCTURE]


def process(name: str, path: Path = PROCFILE) -> Process:
    for candidate in processes(path):
        if candidate.name == name:
            return candidate
    raise KeyError(f"{name!r} is not a line of {path}")


def services(path: Path = PROCFILE) -> tuple[str, ...]:
    """The services the Procfile runs, in its order."""
    return tuple(dict.fromkeys(p.service for p in processes(path) if p.service is not None))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args != ["workers"]:
        print("usage: python -m pactra_devtools.process_table workers", file=sys.stderr)
        return 2
    for entry in processes():
        if entry.role == "worker":
            print(entry.service, f"{entry.module}:app")
    return 0


if __name__ == "__main__":
    sys.exit(main())
