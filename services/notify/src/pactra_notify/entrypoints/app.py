"""The notify service's HTTP API: ``gunicorn 'pactra_notify.entrypoints.app:create_app()'``."""

from flask import Flask

from pactra_platform.web import create_internal_app

from ..bootstrap import SERVICE, USES_STORAGE, bootstrap
from ..config import NotifySettings
from . import email_events, errors, webhooks_api


def create_app(settings: NotifySettings | None = None) -> Flask:
    notify = bootstrap(settings)
    app = create_internal_app(SERVICE, notify.settings, uses_storage=USES_STORAGE)
    app.extensions["notify"] = notify
    errors.register(app)
    app.register_blueprint(webhooks_api.bp)
    # Resend's reports of bounces and complaints (public, through the gateway; Svix-signed).
    app.register_blueprint(email_events.bp)
    return app
