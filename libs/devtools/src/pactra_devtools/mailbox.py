"""The development mailbox: an SMTP server that keeps every message, and a page to read them.

``pactra-dev mailbox`` runs it in the foreground (SMTP on 127.0.0.1:1025, web on
127.0.0.1:8025); the test stack runs one per session on free ports. Nothing is relayed
anywhere: a message stays here, in memory (the newest ``limit``) and, when a directory is
given, as ``.eml`` files with their envelope beside them, read back at the next start: the
mailbox of ``make run`` (``.pactra/mail``) keeps its mail across restarts until ``make reset``.

Web UI and API:
``GET /`` the list; ``GET /messages/{id}`` one message; ``GET /api/messages[?to=addr]`` JSON,
newest first; ``GET /api/messages/{id}/attachments/{n}`` the raw attachment;
``GET /api/messages/{id}/raw`` the message as received; ``DELETE /api/messages`` clears.
"""

import collections
import email
import html
import itertools
import json
import logging
import os
import signal
import threading
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

from pactra_contracts.times import format_time, utcnow

log = logging.getLogger(__name__)

DEFAULT_SMTP_PORT = 1025
DEFAULT_WEB_PORT = 8025
# Big enough for a completion email with a signed PDF attached (notify attaches up to 10 MiB).
MAX_MESSAGE_BYTES = 40 * 1024 * 1024


@dataclass(frozen=True)
class StoredMessage:
    id: str
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    received_at: str

    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.raw, policy=policy.default)  # type: ignore[return-value]

    def attachments(self) -> list[EmailMessage]:
        return list(self.parsed().iter_attachments())

    def summary(self) -> dict:
        message = self.parsed()
        header_to = [addr for _, addr in getaddresses(message.get_all("To", []))]
        text = message.get_body(preferencelist=("plain",))
        body_html = message.get_body(preferencelist=("html",))
        return {
            "id": self.id,
            "from": str(message.get("From", self.mail_from)),
            "to": header_to or list(self.rcpt_tos),
            "envelope_to": list(self.rcpt_tos),
            "subject": str(message.get("Subject", "")),
            "message_id": str(message.get("Message-ID", "")),
            "text": text.get_content() if text is not None else None,
            "html": body_html.get_content() if body_html is not None else None,
            "attachments": [
                {"filename": part.get_filename(), "content_type": part.get_content_type(),
                 "size": len(part.get_payload(decode=True) or b"")}
                for part in self.attachments()
            ],
            "received_at": self.received_at,
        }


class Mailbox:
    """The newest ``limit`` messages, thread-safe; each also written to ``directory`` (the
    raw message as ``<id>.eml``, its envelope as ``<id>.json``) and read back from it."""

    def __init__(self, limit: int = 500, directory: Path | None = None) -> None:
        self._messages: collections.deque[StoredMessage] = collections.deque(maxlen=limit)
        self._lock = threading.Lock()
        self.directory = directory
        last = 0
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            for stored in self._load(directory)[-limit:]:
                self._messages.append(stored)
            last = max((int(m.id[1:]) for m in self._messages), default=0)
        self._ids = itertools.count(last + 1)

    @staticmethod
    def _load(directory: Path) -> list[StoredMessage]:
        """The messages a previous run kept, oldest first; a half-written one is skipped."""
        found = []
        for envelope_path in directory.glob("m*.json"):
            raw_path = envelope_path.with_suffix(".eml")
            try:
                envelope = json.loads(envelope_path.read_text())
                found.append(StoredMessage(envelope_path.stem, envelope["mail_from"],
                                           tuple(envelope["rcpt_tos"]), raw_path.read_bytes(),
                                           envelope["received_at"]))
            except (OSError, ValueError, KeyError):
                log.warning("skipping unreadable stored message %s", envelope_path.stem)
        return sorted(found, key=lambda m: int(m.id[1:]) if m.id[1:].isdigit() else 0)

    def add(self, mail_from: str, rcpt_tos: list[str], raw: bytes) -> StoredMessage:
        with self._lock:
            message = StoredMessage(f"m{next(self._ids)}", mail_from, tuple(rcpt_tos), raw,
                                    format_time(utcnow()))
            evicted = self._messages[0] if len(self._messages) == self._messages.maxlen else None
            self._messages.append(message)
        if self.directory is not None:
            (self.directory / f"{message.id}.eml").write_bytes(raw)
            # The envelope last: a message counts as kept once its envelope is written.
            (self.directory / f"{message.id}.json").write_text(json.dumps({
                "mail_from": mail_from, "rcpt_tos": list(rcpt_tos),
                "received_at": message.received_at}))
            if evicted is not None:
                self._forget(evicted.id)
        return message

    def _forget(self, message_id: str) -> None:
        assert self.directory is not None
        for suffix in (".json", ".eml"):
            (self.directory / f"{message_id}{suffix}").unlink(missing_ok=True)

    def list(self, to: str | None = None) -> list[StoredMessage]:
        with self._lock:
            messages = list(reversed(self._messages))
        if to is None:
            return messages
        wanted = to.lower()
        return [m for m in messages if wanted in (r.lower() for r in m.rcpt_tos)]

    def get(self, message_id: str) -> StoredMessage | None:
        with self._lock:
            return next((m for m in self._messages if m.id == message_id), None)

    def clear(self) -> None:
        with self._lock:
            cleared = [m.id for m in self._messages]
            self._messages.clear()
        if self.directory is not None:
            for message_id in cleared:
                self._forget(message_id)


class _SmtpHandler:
    def __init__(self, mailbox: Mailbox) -> None:
        self.mailbox = mailbox

    async def handle_DATA(self, server, session, envelope) -> str:
        raw = envelope.original_content or envelope.content
        stored = self.mailbox.add(envelope.mail_from, list(envelope.rcpt_tos), raw)
        log.info("received %s for %s", stored.id, ", ".join(stored.rcpt_tos))
        return "250 Message accepted for delivery"


def _page(title: str, body: str) -> bytes:
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2rem;color:#222}"
        "table{border-collapse:collapse;width:100%}td,th{padding:.4rem;border-bottom:1px solid #ddd;"
        "text-align:left}iframe{width:100%;height:28rem;border:1px solid #ccc}"
        "pre{white-space:pre-wrap;background:#f6f6f6;padding:1rem}</style></head><body>"
        f"{body}</body></html>"
    ).encode()


def _list_page(mailbox: Mailbox) -> bytes:
    rows = "".join(
        f"<tr><td><a href='/messages/{m['id']}'>{html.escape(m['subject'] or '(no subject)')}</a></td>"
        f"<td>{html.escape(', '.join(m['to']))}</td><td>{html.escape(m['received_at'])}</td></tr>"
        for m in (stored.summary() for stored in mailbox.list())
    )
    return _page("Pactra mailbox", "<h1>Pactra development mailbox</h1>"
                 "<table><tr><th>Subject</th><th>To</th><th>Received</th></tr>"
                 f"{rows or '<tr><td colspan=3>No mail yet.</td></tr>'}</table>")


def _message_page(stored: StoredMessage) -> bytes:
    m = stored.summary()
    attachments = "".join(
        f"<li><a href='/api/messages/{m['id']}/attachments/{n}'>{html.escape(a['filename'] or 'file')}"
        f"</a> ({html.escape(a['content_type'])}, {a['size']} bytes)</li>"
        for n, a in enumerate(m["attachments"])
    )
    parts = ""
    if m["html"] is not None:
        # The HTML part is served on its own URL under a sandbox CSP and shown in a sandboxed
        # frame, so a message's markup can never run script in the mailbox's own page.
        parts += f"<h2>HTML</h2><iframe sandbox src='/messages/{m['id']}/html'></iframe>"
    if m["text"] is not None:
        parts += f"<h2>Text</h2><pre>{html.escape(m['text'])}</pre>"
    return _page(m["subject"], (
        "<p><a href='/'>&larr; all mail</a></p>"
        f"<h1>{html.escape(m['subject'])}</h1><p>From {html.escape(m['from'])}<br>"
        f"To {html.escape(', '.join(m['to']))}<br>{html.escape(m['received_at'])}"
        f" &middot; <a href='/api/messages/{m['id']}/raw'>raw</a></p>"
        f"{'<ul>' + attachments + '</ul>' if attachments else ''}{parts}"))


def make_web_handler(mailbox: Mailbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            log.debug(format, *args)

        def _send(self, status: int, body: bytes, content_type: str,
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, value: object) -> None:
            self._send(status, json.dumps(value).encode(), "application/json")

        def _not_found(self) -> None:
            self._json(404, {"title": "Not found", "status": 404})

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            segments = [s for s in url.path.split("/") if s]
            if not segments:
                return self._send(200, _list_page(mailbox), "text/html; charset=utf-8")
            if segments == ["api", "messages"]:
                to = parse_qs(url.query).get("to", [None])[0]
                return self._json(200, [m.summary() for m in mailbox.list(to)])
            stored = mailbox.get(segments[2] if segments[0] == "api" and len(segments) > 2
                                 else segments[1] if len(segments) > 1 else "")
            if stored is None:
                return self._not_found()
            return self._get_message(segments, stored)

        def _get_message(self, segments: list[str], stored: StoredMessage) -> None:
            if segments[0] == "messages" and len(segments) == 2:
                return self._send(200, _message_page(stored), "text/html; charset=utf-8")
            if segments[0] == "messages" and segments[2:] == ["html"]:
                part = stored.parsed().get_body(preferencelist=("html",))
                if part is None:
                    return self._not_found()
                return self._send(200, part.get_content().encode(), "text/html; charset=utf-8",
                                  {"Content-Security-Policy": "sandbox"})
            if segments[0] != "api":
                return self._not_found()
            rest = segments[3:]
            if not rest:
                return self._json(200, stored.summary())
            if rest == ["raw"]:
                return self._send(200, stored.raw, "message/rfc822")
            if len(rest) == 2 and rest[0] == "attachments" and rest[1].isdigit():
                attachments = stored.attachments()
                if int(rest[1]) >= len(attachments):
                    return self._not_found()
                part = attachments[int(rest[1])]
                return self._send(200, part.get_payload(decode=True) or b"", part.get_content_type())
            return self._not_found()

        def do_DELETE(self) -> None:
            if urlsplit(self.path).path.rstrip("/") != "/api/messages":
                return self._not_found()
            mailbox.clear()
            self.send_response(204)
            self.end_headers()
            return None

    return Handler


class MailboxServer:
    """Both halves, started and stopped together."""

    def __init__(self, mailbox: Mailbox, host: str, smtp_port: int, web_port: int) -> None:
        self.mailbox = mailbox
        self.smtp = Controller(_SmtpHandler(mailbox), hostname=host, port=smtp_port,
                               data_size_limit=MAX_MESSAGE_BYTES)
        self.web = ThreadingHTTPServer((host, web_port), make_web_handler(mailbox))
        self.web.daemon_threads = True

    def start(self) -> None:
        self.smtp.start()

    def serve_forever(self) -> None:
        self.web.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self.web.shutdown()
        self.web.server_close()
        self.smtp.stop()


def run_from_environment() -> int:
    """``pactra-dev mailbox``: in the foreground until SIGTERM or Ctrl-C."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s mailbox %(message)s")
    # aiosmtpd logs every SMTP command at INFO; one line per received message is enough.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    host = os.environ.get("PACTRA_MAILBOX_HOST", "127.0.0.1")
    smtp_port = int(os.environ.get("PACTRA_MAILBOX_SMTP_PORT", DEFAULT_SMTP_PORT))
    web_port = int(os.environ.get("PACTRA_MAILBOX_WEB_PORT", DEFAULT_WEB_PORT))
    directory = os.environ.get("PACTRA_MAILBOX_DIR")
    server = MailboxServer(Mailbox(directory=Path(directory) if directory else None),
                           host, smtp_port, web_port)
    server.start()
    # serve_forever blocks this thread, so shutdown must come from another one.
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.web.shutdown).start())
    log.info("SMTP on %s:%s, web on http://%s:%s/", host, smtp_port, host, web_port)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.web.server_close()
        server.smtp.stop()
    return 0
