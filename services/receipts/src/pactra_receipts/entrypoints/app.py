"""The receipts service's HTTP API: ``gunicorn 'pactra_receipts.entrypoints.app:create_app()'``."""

from flask import Flask

from pactra_platform.settings import Settings, get_settings
from pactra_platform.web import create_internal_app

from ..views import api

SERVICE = "receipts"
USES_STORAGE = True


def create_app(settings: Settings | None = None) -> Flask:
    app = create_internal_app(SERVICE, settings or get_settings(), uses_storage=USES_STORAGE)
    app.register_blueprint(api)
    return app
