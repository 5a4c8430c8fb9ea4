"""Where email leaves Pactra: SMTP or Resend's HTTP API, behind one small interface."""

import base64
import functools
import hashlib
import logging
import secrets
import smtplib
import ssl
import threading
import time
from collections.abc import Callable
from email.encoders import encode_base64
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, parseaddr
from urllib.parse import unquote, urlsplit

import requests

from ..config import NotifySettings
from ..domain.emails import Email
from ..service_layer.ports import EmailBackend, PermanentEmailError

log = logging.getLogger(__name__)


def to_mime(email: Email, sender: str, message_id: str) -> Message:
    """The email as MIME: text and HTML alternatives, then any attachments.

    Built with the classic ``email.mime`` classes: the policy-driven ``EmailMessage`` parses
    and re-folds every header through its registry, and took half of the notify worker's CPU.
    """
    body = MIMEMultipart("alternative", boundary=_boundary())
    body.attach(MIMEText(email.text, "plain", "utf-8"))
    body.attach(MIMEText(email.html, "html", "utf-8"))
    message = body
    if email.attachments:
        message = MIMEMultipart("mixed", boundary=_boundary())
        message.attach(body)
        for attachment in email.attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            part = MIMEBase(maintype, subtype)
            part.set_payload(attachment.content)
            encode_base64(part)
            filename = attachment.filename
            part.add_header("Content-Disposition", "attachment",
                            filename=filename if filename.isascii() else ("utf-8", "", filename))
            message.attach(part)
    message["From"] = _one_line(sender)
    message["To"] = _one_line(email.to)
    subject = _one_line(email.subject)
    message["Subject"] = subject if subject.isascii() else Header(subject, "utf-8")  # RFC 2047
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = message_id
    return message


def _boundary() -> str:
    """A multipart boundary that no part can contain, so the generator need not check.

    Without one, ``email.generator`` makes a boundary, then scans the whole flattened text of
    the parts for it: with a sealed PDF attached, 18 % of building and flattening the email
    (cProfile, 200 receipt emails with a 46 KB PDF), paid per recipient. Every part here is
    base64 (``MIMEText`` with utf-8, the attachments), whose lines hold no ``_``; the random
    tail keeps messages' boundaries apart."""
    return "=_pactra_" + secrets.token_hex(16)


def delivery_key(idempotency_key: str) -> str:
    """A delivery's stable name for headers (Message-ID, Resend's idempotency key): a hash of
    its identity (event id and recipient), the same on every retry of that delivery."""
    return hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]


def _one_line(value: str) -> str:
    # A value typed by someone (an agreement's title is in the subject) must never carry a
    # line break: with one, the rest would become a header of its own.
    return " ".join(value.splitlines())


class SmtpBackend:
    """``smtp://[user:password@]host:port`` (STARTTLS when the server offers it) or
    ``smtps://`` (TLS from the first byte).

    Sessions are kept open and reused: a new one is a TCP (and TLS) handshake, a greeting,
    EHLO and QUIT, more than the email itself costs. One idle for a while is checked with a
    NOOP before reuse (servers drop idle sessions), and one that fails is never reused.
    """

    # A session idle this long is checked with NOOP before reuse; one idle longer than
    # KEEP_SECONDS is closed unchecked.
    CHECK_AFTER_SECONDS = 2.0
    KEEP_SECONDS = 30.0

    def __init__(self, url: str, sender: str, timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError(f"PACTRA_SMTP_URL must be smtp:// or smtps://, not {url!r}")
        self.tls = parts.scheme == "smtps"
        self.host = parts.hostname
        self.port = parts.port or (465 if self.tls else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.sender = sender
        self.timeout = timeout
        self._idle: list[tuple[smtplib.SMTP, float]] = []  # (session, idle since), newest last
        self._lock = threading.Lock()

    def send(self, email: Email, *, idempotency_key: str) -> str:
        domain = parseaddr(self.sender)[1].rpartition("@")[2] or "pactra.local"
        delivery = delivery_key(idempotency_key)
        # The same delivery sent again (its worker died between the server's answer and the
        # ledger's "sent") carries the same Message-ID, so mail clients show one message.
        message_id = f"<{delivery}@{domain}>"
        message = to_mime(email, self.sender, message_id)
        # Resend's SMTP relay sends a delivery with a key it saw in the last 24 h only once;
        # other servers ignore the header. Hashed: the recipient sees no event id.
        message["Resend-Idempotency-Key"] = delivery
        smtp = self._session()
        try:
            smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            # The session itself is fine; only this recipient was refused.
            self._put_back(smtp)
            codes = [code for code, _ in exc.recipients.values()]
            if all(500 <= code < 600 for code in codes):
                raise PermanentEmailError(f"recipient refused: {exc.recipients}") from exc
            raise
        except BaseException:
            _close(smtp)
            raise
        self._put_back(smtp)
        return message_id

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for smtp, _ in idle:
            _close(smtp)

    def _session(self) -> smtplib.SMTP:
        while True:
            with self._lock:
                if not self._idle:
                    break
                smtp, since = self._idle.pop()
            idle_for = time.monotonic() - since
            if idle_for > self.KEEP_SECONDS:
                _close(smtp)
                continue
            if idle_for > self.CHECK_AFTER_SECONDS:
                try:
                    if smtp.noop()[0] != 250:
                        raise smtplib.SMTPException("NOOP refused")
                except (smtplib.SMTPException, OSError):
                    _close(smtp)
                    continue
            return smtp
        return self._connect()

    def _put_back(self, smtp: smtplib.SMTP) -> None:
        with self._lock:
            self._idle.append((smtp, time.monotonic()))

    def _connect(self) -> smtplib.SMTP:
        if self.tls:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            smtp.ehlo()
            if smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
        if self.username:
            smtp.login(self.username, self.password or "")
        return smtp


def _close(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        smtp.close()


class ResendBackend:
    """Resend's HTTP API: ``POST {base}/emails`` with a bearer key, answered ``{"id": ...}``.

    429 and 5xx are retried here with exponential back-off (honouring ``Retry-After``); the
    ``Idempotency-Key`` header makes a retry of a request Resend did take a no-op there.
    Other 4xx are permanent, except 401/403, which mean our key is wrong: raised as ordinary
    errors so the event is retried and, in the end, dead-lettered for replay once it is fixed.
    """

    def __init__(self, base_url: str, api_key: str, sender: str, *, attempts: int = 4,
                 backoff: float = 0.5, timeout: float = 15.0) -> None:
        if not api_key:
            raise ValueError("PACTRA_RESEND_API_KEY is required when PACTRA_EMAIL_BACKEND=resend")
        self.url = base_url.rstrip("/") + "/emails"
        self.api_key = api_key
        self.sender = sender
        self.attempts = attempts
        self.backoff = backoff
        self.timeout = timeout
        self.http = requests.Session()

    def payload(self, email: Email) -> dict:
        return {
            "from": self.sender, "to": [email.to], "subject": email.subject,
            "html": email.html, "text": email.text,
            "attachments": [
                {"filename": a.filename, "content": base64.b64encode(a.content).decode(),
                 "content_type": a.content_type}
                for a in email.attachments
            ],
        }

    def send(self, email: Email, *, idempotency_key: str) -> str:
        headers = {"Authorization": f"Bearer {self.api_key}", "Idempotency-Key": idempotency_key,
                   "User-Agent": "pactra-notify"}
        body = self.payload(email)
        for attempt in range(1, self.attempts + 1):
            response = self.http.post(self.url, json=body, headers=headers, timeout=self.timeout)
            if response.status_code < 300:
                return str(response.json()["id"])
            retryable = response.status_code == 429 or response.status_code >= 500
            if not retryable:
                detail = f"Resend answered {response.status_code}: {response.text[:500]}"
                if response.status_code in (401, 403):
                    raise RuntimeError(detail)
                raise PermanentEmailError(detail)
            if attempt == self.attempts:
                break
            delay = self._delay(response, attempt)
            log.warning("Resend answered %s; retrying in %.1fs", response.status_code, delay)
            time.sleep(delay)
        raise RuntimeError(f"Resend still answered {response.status_code} after {self.attempts} tries")

    def _delay(self, response: requests.Response, attempt: int) -> float:
        try:
            retry_after = float(response.headers.get("Retry-After", ""))
        except ValueError:
            retry_after = 0.0
        return min(max(retry_after, self.backoff * 2 ** (attempt - 1)), 30.0)

    def close(self) -> None:
        self.http.close()


class LazyBackend:
    """The configured backend, made at its first email: a worker that never sends one (or an
    API process) never needs the provider's key."""

    def __init__(self, make: Callable[[], EmailBackend]) -> None:
        self._backend = functools.cache(make)

    def send(self, email: Email, *, idempotency_key: str) -> str:
        return self._backend().send(email, idempotency_key=idempotency_key)

    def close(self) -> None:
        """The SMTP sessions kept for reuse end with a QUIT, not a dropped connection."""
        if self._backend.cache_info().currsize:
            self._backend().close()


def backend_for(settings: NotifySettings) -> EmailBackend:
    if settings.email_backend == "resend":
        return ResendBackend(settings.resend_base_url, settings.resend_api_key, settings.email_from)
    return SmtpBackend(settings.smtp_url, settings.email_from, settings.smtp_timeout)
