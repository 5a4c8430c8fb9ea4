"""The notify service's HTTP API: ``gunicorn 'pactra_notify.entrypoints.app:create_app()'``."""

from flask import Flask

from pactra_platform.settings import Settings, get_settings
from pactra_platform.web import create_internal_app

from .. import email_events, webhooks_api

SERVICE = "notify"
USES_STORAGE = False


def create_app(settings: Settings | None = None) -> Flask:
    app = create_internal_app(SERVICE, settings or get_settings(), uses_storage=USES_STORAGE)
    app.register_blueprint(webhooks_api.bp)
    # Resend's reports of bounces and complaints (public, through the gateway; Svix-signed).
    app.register_blueprint(email_events.bp)
    return app
