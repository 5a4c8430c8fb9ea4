"""The development mailbox: SMTP in, web page and JSON API out."""

import smtplib
import socket
import threading
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
import requests

from pactra_devtools.mailbox import Mailbox, MailboxServer


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server() -> Iterator[MailboxServer]:
    # aiosmtpd checks its own port by connecting to it, so it cannot be given port 0.
    running = MailboxServer(Mailbox(limit=3), "127.0.0.1", free_port(), 0)
    running.start()
    thread = threading.Thread(target=running.serve_forever, daemon=True)
    thread.start()
    try:
        yield running
    finally:
        running.stop()
        thread.join(10)


def web(server: MailboxServer) -> str:
    return f"http://127.0.0.1:{server.web.server_address[1]}"


def send(server: MailboxServer, to: str, subject: str, *, attach: bytes | None = None) -> None:
    message = EmailMessage()
    message["From"] = "Pactra <no-reply@pactra.local>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("plain part")
    message.add_alternative("<p>html <script>alert(1)</script></p>", subtype="html")
    if attach is not None:
        message.add_attachment(attach, maintype="application", subtype="pdf", filename="signed.pdf")
    with smtplib.SMTP("127.0.0.1", server.smtp.port, timeout=5) as smtp:
        smtp.send_message(message)


def test_messages_are_listed_newest_first_and_filtered(server: MailboxServer) -> None:
    send(server, "a@example.com", "first")
    send(server, "b@example.com", "second <tag>", attach=b"%PDF-1.7 data")
    listed = requests.get(web(server) + "/api/messages", timeout=5).json()
    assert [m["subject"] for m in listed] == ["second <tag>", "first"]
    second = listed[0]
    assert second["to"] == ["b@example.com"] and second["from"] == "Pactra <no-reply@pactra.local>"
    assert second["text"].strip() == "plain part"
    assert second["html"].strip() == "<p>html <script>alert(1)</script></p>"
    assert second["attachments"] == [
        {"filename": "signed.pdf", "content_type": "application/pdf", "size": 13}]
    assert second["received_at"].endswith("Z")
    only_a = requests.get(web(server) + "/api/messages", params={"to": "A@example.com"}, timeout=5)
    assert [m["subject"] for m in only_a.json()] == ["first"]
    attachment = requests.get(f"{web(server)}/api/messages/{second['id']}/attachments/0", timeout=5)
    assert attachment.content == b"%PDF-1.7 data"
    assert attachment.headers["Content-Type"] == "application/pdf"
    assert requests.get(f"{web(server)}/api/messages/{second['id']}/attachments/1",
                        timeout=5).status_code == 404


def test_pages_escape_and_sandbox_the_mail(server: MailboxServer) -> None:
    send(server, "c@example.com", "<b>bold</b> subject")
    page = requests.get(web(server) + "/", timeout=5)
    assert page.headers["Content-Type"].startswith("text/html")
    assert "&lt;b&gt;bold&lt;/b&gt; subject" in page.text and "<b>bold</b>" not in page.text
    [message] = requests.get(web(server) + "/api/messages", timeout=5).json()
    view = requests.get(f"{web(server)}/messages/{message['id']}", timeout=5)
    assert "<iframe sandbox" in view.text and "plain part" in view.text
    framed = requests.get(f"{web(server)}/messages/{message['id']}/html", timeout=5)
    assert framed.headers["Content-Security-Policy"] == "sandbox"
    assert requests.get(web(server) + "/messages/nope", timeout=5).status_code == 404


def test_it_keeps_only_the_newest_and_clears(server: MailboxServer) -> None:
    for n in range(5):
        send(server, "d@example.com", f"n{n}")
    listed = requests.get(web(server) + "/api/messages", timeout=5).json()
    assert [m["subject"] for m in listed] == ["n4", "n3", "n2"]
    assert requests.delete(web(server) + "/api/messages", timeout=5).status_code == 204
    assert requests.get(web(server) + "/api/messages", timeout=5).json() == []


def test_a_mailbox_with_a_directory_keeps_its_mail_across_restarts(tmp_path) -> None:
    first = Mailbox(limit=2, directory=tmp_path)
    for n in range(3):
        first.add("pactra@example.com", [f"r{n}@example.com"], f"Subject: n{n}\r\n\r\nbody {n}\r\n".encode())
    # A restart: a new mailbox over the same directory sees what the last one kept (the
    # newest two; the evicted one is gone from disk too), and numbers on after it.
    second = Mailbox(limit=2, directory=tmp_path)
    kept = second.list()
    assert [m.rcpt_tos for m in kept] == [("r2@example.com",), ("r1@example.com",)]
    assert kept[0].summary()["subject"] == "n2"
    assert len(list(tmp_path.glob("*.eml"))) == 2
    added = second.add("pactra@example.com", ["r3@example.com"], b"Subject: n3\r\n\r\nbody\r\n")
    assert added.id not in {m.id for m in kept}
    second.clear()
    assert Mailbox(directory=tmp_path).list() == []
