"""Every service is the same house (issue 12; the README's "Every service is the same house"):
the rooms of its package, a domain that imports no framework, and mypy strict on the rooms that
hold the rules."""

import ast
import tomllib
from pathlib import Path

import pytest

from pactra_contracts.services import SERVICES

ROOT = Path(__file__).resolve().parents[2]

# The rooms of services/<name>/src/pactra_<name>/ (house.md).
ROOMS = ("bootstrap.py", "config.py", "domain/", "service_layer/", "adapters/",
         "entrypoints/app.py", "entrypoints/worker.py", "entrypoints/errors.py")

# What a domain may not import: web framework, ORM and database driver, broker clients.
FORBIDDEN_IN_DOMAIN = ("flask", "sqlalchemy", "faststream", "aio_pika", "aiormq", "psycopg")


def package(service: str) -> Path:
    return ROOT / "services" / service / "src" / f"pactra_{service}"


def has_room(root: Path, room: str) -> bool:
    return (root / room[:-1]).is_dir() if room.endswith("/") else (root / room).is_file()


def forbidden_imports(folder: Path) -> list[str]:
    """``file:line module`` for each import of a forbidden package below ``folder``."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            found += [f"{path.relative_to(folder.parent)}:{node.lineno} {module}" for module in modules
                      if module.split(".")[0] in FORBIDDEN_IN_DOMAIN]
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_room_is_there(service: str) -> None:
    there = [room for room in ROOMS if has_room(package(service), room)]
    missing = [room for room in ROOMS if room not in there]
    assert not missing, f"pactra_{service} has {there}, lacks {missing}"


@pytest.mark.parametrize("service", SERVICES)
def test_the_domain_imports_no_framework(service: str) -> None:
    domain = package(service) / "domain"
    assert domain.is_dir(), f"pactra_{service} has no domain/"
    assert forbidden_imports(domain) == []


def test_the_import_check_finds_what_it_forbids(tmp_path: Path) -> None:
    domain = tmp_path / "domain"
    domain.mkdir()
    (domain / "agreement.py").write_text(
        "import dataclasses\nfrom sqlalchemy.orm import Mapped\nimport flask, json\n"
        "from . import rules\nfrom aio_pika import connect\n")
    assert forbidden_imports(domain) == ["domain/agreement.py:2 sqlalchemy.orm",
                                         "domain/agreement.py:3 flask",
                                         "domain/agreement.py:5 aio_pika"]


def test_every_service_is_strictly_typed_in_its_domain_and_service_layer() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    strict = [override for override in config["overrides"] if override.get("disallow_untyped_defs")]
    modules = {module for override in strict for module in override["module"]}
    for service in SERVICES:
        for room in ("domain", "service_layer"):
            assert {f"pactra_{service}.{room}", f"pactra_{service}.{room}.*"} <= modules, (service, room)
    assert set(config["packages"]) >= {f"pactra_{service}" for service in SERVICES}
