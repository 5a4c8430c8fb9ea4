"""Fixtures every test tree shares: the platform as real processes, and polling helpers.

Unit tests are the tests in a ``tests/unit/`` folder (``libs/<lib>/tests/unit``,
``services/<name>/tests/unit``, ``tests/unit``): they get the ``unit`` marker here, by where
they are, and ``make test-unit`` runs them alone, with no service, database or broker. Every
other test is an integration test (``integration`` marker). A unit test that asks for a fixture
that starts infrastructure is refused at collection, so the split cannot rot silently.
"""

import shutil
from collections.abc import Iterator

import pytest

from pactra_devtools.stack import Stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    """Every service's API and worker, on this session's own databases, vhost, S3 and ports."""
    platform = Stack.create()
    try:
        platform.start_all()
        yield platform
    finally:
        platform.close()


@pytest.fixture
def gateway(stack: Stack) -> str:
    return stack.gateway_url


# Debian's Chromium, driven by Playwright: no browser is ever downloaded.
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium tries to reach Google's services on this closed network.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """One Chromium per test module (the browser tests of notify and of tests/e2e)."""
    from playwright.sync_api import sync_playwright  # only the browser tests pay for importing it

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


# Fixtures that start processes or need PostgreSQL, RabbitMQ or S3: never in a unit test.
INFRASTRUCTURE_FIXTURES = frozenset({"stack", "gateway", "scratch", "db_of", "receipts_stack", "bus_stack"})


def is_unit_test(path: object) -> bool:
    """Whether a test file lies in a ``tests/unit/`` folder (at any depth below it)."""
    parts = getattr(path, "parts", ())
    return any(parts[i] == "tests" and parts[i + 1] == "unit" for i in range(len(parts) - 1))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    misplaced = []
    for item in items:
        if is_unit_test(item.path):
            item.add_marker(pytest.mark.unit)
            if needs := INFRASTRUCTURE_FIXTURES.intersection(getattr(item, "fixturenames", ())):
                misplaced.append(f"{item.nodeid} uses {', '.join(sorted(needs))}")
        else:
            item.add_marker(pytest.mark.integration)
    if misplaced:
        raise pytest.UsageError("unit tests (tests/unit/) may not start infrastructure; move these "
                                "to tests/integration/:\n  " + "\n  ".join(misplaced))
