"""Fixtures every test tree shares: the platform as real processes, and polling helpers."""

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
