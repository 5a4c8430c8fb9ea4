"""The gateway's Flask app: ``create_app()`` (served by gunicorn as ``pactra_gateway.app:create_app()``)."""

from flask import Flask

from pactra_platform import readiness
from pactra_platform.settings import Settings, get_settings
from pactra_platform.web import create_service_app

from . import docs, edge, views
from .bootstrap import SERVICE, bootstrap


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    gw = bootstrap(settings)
    # The gateway is the edge: callers do not sign; it authenticates them by API key instead.
    app = create_service_app(
        SERVICE, settings,
        readiness={"database": readiness.database(settings, SERVICE),
                   "broker": readiness.broker(settings)},
        verify_signature=False,
    )
    app.extensions["pactra_gateway"] = gw
    edge.install(app, gw)
    app.register_blueprint(docs.bp)
    app.register_blueprint(views.bp)
    return app
