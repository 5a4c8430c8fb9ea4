"""Headers every service's answers carry: never sniffed; HTTPS-only once published over HTTPS."""

import secrets

import pytest

from pactra_platform.settings import Settings
from pactra_platform.web import create_service_app


def _app(public_url: str):
    # A database that does not exist: the app is never asked for anything that needs one.
    settings = Settings(public_url=public_url, db_prefix=f"pactra_headers_{secrets.token_hex(4)}_")
    return create_service_app("headers", settings, readiness={}, verify_signature=False).test_client()


@pytest.mark.parametrize("path", ["/healthz", "/no-such-route"])
def test_answers_are_never_sniffed_and_https_is_enforced_when_published_so(path):
    published = _app("https://pactra.example")
    answer = published.get(path)
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    local = _app("http://127.0.0.1:8080").get(path)
    assert local.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in local.headers
