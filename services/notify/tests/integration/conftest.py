"""Fixtures of the notify tests: a local server speaking Resend's HTTP API, the mailbox."""

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from pactra_devtools import local_s3
from pactra_devtools.fake_resend import RESEND_KEY as RESEND_KEY  # the notify tests import it from here
from pactra_devtools.fake_resend import FakeResend, running_fake_resend
from pactra_devtools.processes import stop_group
from pactra_devtools.testing import wait_until


@pytest.fixture(scope="session")
def fake_resend() -> Iterator[FakeResend]:
    with running_fake_resend() as fake:
        yield fake


@dataclass
class MailboxProcess:
    smtp_url: str
    web_url: str

    def messages(self, to: str | None = None) -> list[dict]:
        response = requests.get(self.web_url + "/api/messages", params={"to": to} if to else None,
                                timeout=10)
        response.raise_for_status()
        return response.json()

    def clear(self) -> None:
        requests.delete(self.web_url + "/api/messages", timeout=10).raise_for_status()


@pytest.fixture(scope="session")
def mailbox() -> Iterator[MailboxProcess]:
    """``pactra-dev mailbox`` on free ports, as a real process."""
    # The far end of a long block: a Stack made in this process takes the block's start.
    smtp_port, web_port = local_s3.free_port_block(40)[-2:]
    # Its own message directory: `pactra-dev mailbox` keeps mail in .pactra/mail by default,
    # where a second run of these tests found the first run's messages.
    with tempfile.TemporaryFile() as log, tempfile.TemporaryDirectory(prefix="mailbox-") as mail:
        env = dict(os.environ, PACTRA_MAILBOX_SMTP_PORT=str(smtp_port),
                   PACTRA_MAILBOX_WEB_PORT=str(web_port), PACTRA_MAILBOX_DIR=mail)
        process = subprocess.Popen([str(Path(sys.executable).parent / "pactra-dev"), "mailbox"],
                                   env=env, stdout=log, stderr=log, start_new_session=True)
        box = MailboxProcess(f"smtp://127.0.0.1:{smtp_port}", f"http://127.0.0.1:{web_port}")
        try:
            def up() -> bool:
                assert process.poll() is None, "mailbox exited"
                try:
                    return requests.get(box.web_url + "/api/messages", timeout=1).ok
                except requests.RequestException:
                    return False

            wait_until(up, timeout=20)
            yield box
        finally:
            stop_group(process, 10)
