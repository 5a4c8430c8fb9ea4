"""Fixtures of the documents tests: gateway + documents API + documents worker, as real
processes on their own databases, vhost and S3 store."""

import asyncio
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aio_pika
import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from pactra_contracts.events import Event
from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, shared_data, signup
from pactra_platform.internal_client import ServiceClient

PDFS = shared_data("pdfs")
MAX_UPLOAD = 4 * 1024 * 1024
MINIMAL = PDFS / "pysample__001-trivial__minimal-document.pdf"
FOUR_PAGES = PDFS / "pysample__004-pdflatex-4-pages__pdflatex-4-pages.pdf"


@dataclass
class Account:
    workspace_id: str
    headers: dict[str, str]


@dataclass
class Docs:
    stack: Stack

    @property
    def url(self) -> str:
        return self.stack.gateway_url

    def account(self) -> Account:
        created = signup(self.url)
        return Account(created["workspace"]["id"], auth(created))

    def upload(self, account: Account, data: bytes, *, filename: str | None = "a.pdf",
               content_type: str = "application/pdf", timeout: float = 90) -> requests.Response:
        params = {"filename": filename} if filename is not None else {}
        return requests.post(self.url + "/v1/documents", params=params, data=data,
                             headers={**account.headers, "Content-Type": content_type},
                             timeout=timeout)

    def get(self, account: Account, path: str, **kwargs: object) -> requests.Response:
        return requests.get(self.url + path, headers=account.headers, timeout=30, **kwargs)

    def delete(self, account: Account, path: str) -> requests.Response:
        return requests.delete(self.url + path, headers=account.headers, timeout=30)

    def peer(self, caller: str = "signing") -> ServiceClient:
        """Signed calls straight to the documents service, as another service makes them."""
        return ServiceClient(self.stack.settings, caller, "documents", timeout=90)

    def sql(self, statement: str, **params: object) -> list[tuple]:
        engine = create_engine(self.stack.settings.database_url_of("documents"),
                               poolclass=NullPool)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(statement), params)]
        finally:
            engine.dispose()

    def publish(self, event: Event) -> None:
        """Put an event on the bus as another service's outbox relay would."""

        async def send() -> None:
            connection = await aio_pika.connect(self.stack.settings.amqp_url)
            try:
                channel = await connection.channel()
                exchange = await channel.get_exchange(f"{self.stack.settings.bus_prefix}.events")
                await exchange.publish(
                    aio_pika.Message(event.to_json(), message_id=event.id,
                                     content_type="application/json", type=event.type,
                                     delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                    routing_key=event.type)
            finally:
                await connection.close()

        asyncio.run(send())

    def outbox(self, event_type: str) -> list[dict]:
        rows = self.sql("SELECT body FROM outbox WHERE type = :t", t=event_type)
        return [row[0] if isinstance(row[0], dict) else json.loads(row[0]) for row in rows]


@pytest.fixture(scope="session")
def docs() -> Iterator[Docs]:
    stack = Stack.create(extra_env={"PACTRA_MAX_UPLOAD_BYTES": str(MAX_UPLOAD)})
    try:
        for name in ("gateway", "documents", "documents-worker"):
            stack.start(name)
        stack.wait_ready("gateway")
        stack.wait_ready("documents")
        stack.wait_workers()
        yield Docs(stack)
    finally:
        stack.close()


@pytest.fixture(scope="session")
def account(docs: Docs) -> Account:
    return docs.account()


@pytest.fixture
def uploaded(docs: Docs, account: Account) -> Callable[..., dict]:
    def make(path: Path = MINIMAL, filename: str = "contract.pdf") -> dict:
        response = docs.upload(account, path.read_bytes(), filename=filename)
        assert response.status_code == 201, response.text
        return response.json()

    return make
