"""The part of the platform that analysis needs, as real processes on an isolated stack, and
what the service tests do with it."""

import contextlib
from collections.abc import Iterator
from pathlib import Path

import requests
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from pactra_devtools import cuad
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


def contract_pdf() -> Path:
    contract = next(c for c in cuad.load("test") if c.pdf_path and "Governing Law" in c.spans)
    assert contract.pdf_path is not None
    return contract.pdf_path


def ai_rows(stack: Stack, sql: str, **params) -> list:
    return service_rows(stack, "ai", sql, **params)


def service_rows(stack: Stack, service: str, sql: str, **params) -> list:
    engine = create_engine(stack.settings.database_url_of(service), poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql), params))
    finally:
        engine.dispose()


def upload(url: str, headers: dict, path: Path) -> dict:
    response = requests.post(url + "/v1/documents", params={"filename": path.name},
                             data=path.read_bytes(),
                             headers={**headers, "Content-Type": "application/pdf"}, timeout=120)
    assert response.status_code == 201, response.text
    return response.json()


def upload_handled(stack: Stack, document_id: str) -> bool:
    """Whether the ai worker has handled this document's ``document.uploaded`` event."""
    published = service_rows(stack, "documents", "SELECT id FROM outbox WHERE type = "
                             "'document.uploaded' AND body->'data'->>'document_id' = :d",
                             d=document_id)
    return bool(published) and bool(ai_rows(
        stack, "SELECT 1 FROM inbox WHERE event_id = :e AND event_type = 'document.uploaded'",
        e=published[0][0]))
