"""The part of the platform that analysis needs, as real processes on an isolated stack."""

import contextlib
from collections.abc import Iterator

from pactra_devtools.stack import Stack

PROCESSES = ("gateway", "gateway-worker", "documents", "documents-worker", "ai", "ai-worker")


@contextlib.contextmanager
def running_platform(extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """The gateway, documents and ai services (APIs and workers) on an isolated stack."""
    stack = Stack.create(extra_env)
    try:
        for name in PROCESSES:
            stack.start(name)
        for service in ("gateway", "documents", "ai"):
            stack.wait_ready(service)
        stack.wait_workers()
        yield stack
    finally:
        stack.close()
