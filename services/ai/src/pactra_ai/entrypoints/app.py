"""The ai service's HTTP API: ``gunicorn 'pactra_ai.entrypoints.app:create_app()'``."""

from flask import Flask

from pactra_platform.web import create_internal_app

from ..bootstrap import bootstrap
from ..config import SERVICE, AiSettings
from . import errors, views

USES_STORAGE = False


def create_app(config: AiSettings | None = None) -> Flask:
    ai = bootstrap(config)
    app = create_internal_app(SERVICE, ai.config, uses_storage=USES_STORAGE)
    app.extensions["pactra_ai"] = ai
    errors.register(app)
    app.register_blueprint(views.bp)
    return app
