"""The base settings name no service: per-service values come from PACTRA_<SERVICE>_* variables."""

import os

import pytest

from pactra_contracts.services import DEFAULT_PORTS, SERVICES
from pactra_platform.settings import Settings


@pytest.fixture(autouse=True)
def _no_pactra_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.upper().startswith("PACTRA_")]:
        monkeypatch.delenv(name)


def test_every_service_listens_on_its_default_port_unless_told() -> None:
    settings = Settings()
    assert {service: settings.port_of(service) for service in SERVICES} == DEFAULT_PORTS
    assert settings.url_of("signing") == "http://127.0.0.1:8082"


def test_per_service_values_come_from_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACTRA_SIGNING_PORT", "9182")
    monkeypatch.setenv("PACTRA_NOTIFY_AMQP_PASSWORD", "from-env")
    monkeypatch.setenv("PACTRA_AI_INTERNAL_KEY", "ai-key")
    # Not per-service values: a declared setting, and the mailbox's two ports.
    monkeypatch.setenv("PACTRA_PUBLIC_PORT", "8443")
    monkeypatch.setenv("PACTRA_MAILBOX_SMTP_PORT", "2525")
    settings = Settings()
    assert settings.port_of("signing") == 9182 and settings.port_of("gateway") == 8090
    assert settings.amqp_password_of("notify") == "from-env" and settings.amqp_password_of("ai") == ""
    assert settings.internal_key_of("ai") == "ai-key" and settings.internal_key_of("gateway") == ""
    assert settings.public_port == 8443
    assert set(settings.ports) == {"signing"}


def test_keywords_win_over_the_environment_and_survive_a_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PACTRA_NOTIFY_AMQP_PASSWORD", "from-env")
    settings = Settings(notify_amqp_password="given",  # noqa: S106 - a test value, no secret
                        documents_internal_key="dk", ai_port="7000")
    assert settings.amqp_password_of("notify") == "given"
    assert (settings.internal_key_of("documents"), settings.port_of("ai")) == ("dk", 7000)
    copy = Settings(**{**settings.model_dump(), "documents_internal_key": "changed"})
    assert copy.amqp_password_of("notify") == "given" and copy.internal_key_of("documents") == "changed"
    assert copy.port_of("ai") == 7000


def test_secrets_stay_out_of_the_repr() -> None:
    settings = Settings(notify_amqp_password="hunter2-password",  # noqa: S106 - a test value
                        gateway_internal_key="private-key")
    assert "hunter2" not in repr(settings) and "private-key" not in repr(settings)


def test_a_service_without_a_port_is_named() -> None:
    with pytest.raises(KeyError, match="PACTRA_BILLING_PORT"):
        Settings().port_of("billing")
