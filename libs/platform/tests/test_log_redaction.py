"""No log line of any process carries a signing token, a one-time link token, an API key or a
webhook secret, whoever logs it: our code, gunicorn's own (non-propagating) loggers, an
exception's message, a record's extras, an exception escaping a thread."""

import io
import logging
import sys
import threading

import pytest

from pactra_platform import logs

TOKEN = "Zx9_Qw-8Rt7Yu6Io5Pa4Sd3Fg2Hj1Kl0ZxCvBnMqWe"  # noqa: S105 - a made-up token to hide
KEY = "pct_live_4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c"
SECRETS = (TOKEN, KEY, "4f9a8b7c6d5e", "whsec_Abc123", "sekrit-bearer")


@pytest.fixture
def captured():
    """configure_logging as a service calls it, with what reaches stderr captured."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, sys.stderr, sys.excepthook, threading.excepthook)
    access = logging.getLogger("gunicorn.access")
    access.propagate = False
    stream = io.StringIO()
    access_handler = logging.StreamHandler(stream)
    access.addHandler(access_handler)
    sys.stderr = stream
    try:
        logs.configure_logging("redaction-test")
        yield stream
    finally:
        access.removeHandler(access_handler)
        root.handlers[:], level, sys.stderr, sys.excepthook, threading.excepthook = saved
        root.setLevel(level)


def test_secrets_never_reach_a_log_line(captured):
    log = logging.getLogger("pactra.test")
    access_line = {"h": "127.0.0.1", "r": f"GET /s/{TOKEN}/info"}
    logging.getLogger("gunicorn.access").info('%(h)s "%(r)s"', access_line)
    log.info("invitation sent with %s", f"http://127.0.0.1:8080/s/{TOKEN}")
    log.info("links", extra={"confirm": f"/confirm-email/{TOKEN}", "recover": f"/recover/{TOKEN}?x=1"})
    log.warning("webhook secret whsec_Abc123, deletion /confirm-deletion/%s", TOKEN)
    log.info("export link", extra={"url": f"http://127.0.0.1:8080/v1/exports/download/{TOKEN}"})
    try:
        raise ValueError(f"could not send {KEY} to /s/{TOKEN}: Authorization: Bearer sekrit-bearer")
    except ValueError:
        log.exception("failed")
    worker = threading.Thread(target=lambda: (_ for _ in ()).throw(RuntimeError(f"/s/{TOKEN}")))
    worker.start()
    worker.join()
    out = captured.getvalue()
    for secret in SECRETS:
        assert secret not in out, (secret, out)
    # What was logged is still there to read, minus the secrets.
    for kept in ("GET /s/<redacted>/info", "/confirm-email/<redacted>", "/recover/<redacted>?x=1",
                 "/v1/exports/download/<redacted>",
                 "pct_live_<redacted>", "whsec_<redacted>", "ValueError", "uncaught exception in thread"):
        assert kept in out, (kept, out)


def test_static_assets_and_ordinary_text_are_left_alone():
    assert logs.redact("GET /s/static/signer.js") == "GET /s/static/signer.js"
    assert logs.redact("agreement agr_123 sent to 2 signers") == "agreement agr_123 sent to 2 signers"
