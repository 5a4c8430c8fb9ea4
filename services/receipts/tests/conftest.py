"""A stack with the gateway and the receipts service, and a stand-in for the documents
service's content route (it speaks the real internal-signature protocol)."""

import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import pytest

from pactra_devtools.stack import Stack

HERE = Path(__file__).resolve().parent
for path in (str(HERE), str(HERE.parents[2])):  # this folder's helpers; tests.verifier
    if path not in sys.path:
        sys.path.append(path)

from documents_stand_in import DocumentsStandIn  # noqa: E402 - importable once the path is set


@pytest.fixture(scope="session")
def receipts_stack() -> Iterator[Stack]:
    stack = Stack.create()
    try:
        for name in ("gateway", "receipts", "receipts-worker", "receipts-issuer"):
            stack.start(name)
        stack.wait_ready("gateway")
        stack.wait_ready("receipts")
        stack.wait_workers()
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="session")
def documents(receipts_stack: Stack) -> Iterator[DocumentsStandIn]:
    settings = receipts_stack.settings
    stand_in = DocumentsStandIn(settings, settings.port_of("documents"))
    try:
        yield stand_in
    finally:
        stand_in.close()


@pytest.fixture(scope="session")
def issuer_with(receipts_stack: Stack) -> Callable[[dict[str, str]], AbstractContextManager[Stack]]:
    """``with issuer_with({"PACTRA_...": ...}):`` the evidence issuer restarted with those
    settings, and restored as it was after."""

    @contextmanager
    def restarted(env: dict[str, str]) -> Iterator[Stack]:
        saved = dict(receipts_stack.env)
        receipts_stack.stop("receipts-issuer")
        receipts_stack.env.update(env)
        receipts_stack.start("receipts-issuer")
        receipts_stack.wait_workers()
        try:
            yield receipts_stack
        finally:
            receipts_stack.stop("receipts-issuer")
            receipts_stack.env.clear()
            receipts_stack.env.update(saved)
            receipts_stack.start("receipts-issuer")
            receipts_stack.wait_workers()

    return restarted
