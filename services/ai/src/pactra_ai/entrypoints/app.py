"""The ai service's HTTP API: ``gunicorn 'pactra_ai.entrypoints.app:create_app()'``."""

from flask import Flask

from pactra_platform.settings import Settings, get_settings
from pactra_platform.web import create_internal_app

from .. import views
from ..service import SERVICE, build

USES_STORAGE = False


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    app = create_internal_app(SERVICE, settings, uses_storage=USES_STORAGE)
    app.extensions["pactra_ai"] = build(settings)
    app.register_blueprint(views.bp)
    return app
