"""JSON logs on stderr, each line carrying the request id that caused it."""

import logging
import re
import sys
import threading
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


# What must never reach a log line, whoever wrote it (our code, gunicorn, FastStream, a library's
# exception message): a path segment that is a bearer secret (signing links and the one-time
# links of account flows), API keys, webhook secrets and Authorization values. The part before
# the secret stays so a reader still sees what kind of request it was.
_SECRET_PATH = re.compile(
    r"(/(?:s|confirm-email|recover|confirm-deletion|v1/exports/download)/)(?!static/|<redacted>)[^/?#\s\"'<>]+")
_SECRETS = (
    (_SECRET_PATH, r"\1<redacted>"),
    (re.compile(r"\b(pct_(?:live|test)_|whsec_)[A-Za-z0-9_\-+/=]+"), r"\1<redacted>"),
    (re.compile(r"(?i)\b(bearer\s+)(?!<redacted>)[^\s\"',]+"), r"\1<redacted>"),
)


def redact(text: str) -> str:
    """``text`` without signing tokens, one-time link tokens, API keys or webhook secrets."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Redacts a record's message, exception text and string extras before any formatter
    sees it. Installed on handlers (not loggers), so records propagated from any logger pass it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "_pactra_redacted", False):
            if isinstance(record.msg, dict):
                record.msg = {k: redact(v) if isinstance(v, str) else v for k, v in record.msg.items()}
            else:
                record.msg, record.args = redact(record.getMessage()), None
            if record.exc_info:
                # Formatted once here, redacted, and kept as exc_text (which formatters print
                # when exc_info is gone): an exception's message can carry a URL or a key.
                record.exc_text = logging.Formatter().formatException(record.exc_info)
                record.exc_info = None
            if record.exc_text:
                record.exc_text = redact(record.exc_text)
            if record.stack_info:
                record.stack_info = redact(record.stack_info)
            for name, value in list(vars(record).items()):
                if isinstance(value, str) and name not in ("msg", "exc_text", "stack_info"):
                    setattr(record, name, redact(value))
            record._pactra_redacted = True
        return True


def install_redaction() -> None:
    """Put the redacting filter on every handler there is: the root's and those of loggers that
    do not propagate (gunicorn's error and access logs)."""
    loggers = [logging.getLogger(), *(candidate for candidate in logging.Logger.manager.loggerDict.values()
                                      if isinstance(candidate, logging.Logger))]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())


def _log_uncaught(exc_type, exc, tb) -> None:
    logging.getLogger("pactra.uncaught").critical("uncaught exception", exc_info=(exc_type, exc, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return
    logging.getLogger("pactra.uncaught").error(
        "uncaught exception in thread %s", getattr(args.thread, "name", "?"),
        exc_info=(args.exc_type, args.exc_value, args.exc_traceback))


class _RequestIdFilter(logging.Filter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.service = self.service
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(service)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(_RequestIdFilter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    install_redaction()
    # Tracebacks Python would print to stderr itself go through the (redacting) logs instead.
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
