"""A stack with the gateway and the receipts service, and a stand-in for the documents
service's content route (it speaks the real internal-signature protocol)."""

import sys
from collections.abc import Iterator
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
