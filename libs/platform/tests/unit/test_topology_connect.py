"""Migrations wait a while for the broker (bus.topology._connect), then say why they stopped."""

import asyncio
import logging
import socket

import aio_pika.exceptions
import pytest

from pactra_platform.bus import topology


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_broker_is_retried_then_reported(caplog: pytest.LogCaptureFixture) -> None:
    url = f"amqp://guest:guest@127.0.0.1:{_closed_port()}/"
    with (caplog.at_level(logging.WARNING, logger=topology.__name__),
          pytest.raises(aio_pika.exceptions.AMQPConnectionError)):
        asyncio.run(topology._connect(url, patience=1.0))
    retries = [r for r in caplog.records if "broker not reachable yet" in r.getMessage()]
    assert len(retries) >= 1
