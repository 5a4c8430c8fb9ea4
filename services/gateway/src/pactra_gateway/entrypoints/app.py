"""The gateway's Flask app: ``create_app()`` (served by gunicorn as
``pactra_gateway.entrypoints.app:create_app()``)."""

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from pactra_gateway.bootstrap import SERVICE, bootstrap
from pactra_gateway.config import GatewaySettings
from pactra_gateway.entrypoints import (
    account_views,
    billing_views,
    deletion_views,
    docs,
    edge,
    errors,
    export_views,
    internal,
    views,
)
from pactra_platform import readiness
from pactra_platform.web import create_service_app


def create_app(settings: GatewaySettings | None = None) -> Flask:
    gw = bootstrap(settings)
    settings = gw.settings
    # The gateway is the edge: callers do not sign; it authenticates them by API key instead.
    app = create_service_app(
        SERVICE, settings,
        readiness={"database": readiness.database(settings, SERVICE),
                   "broker": readiness.broker(settings, SERVICE)},
        verify_signature=False,
    )
    app.extensions["pactra_gateway"] = gw
    errors.install(app)
    edge.install(app, gw)
    app.register_blueprint(docs.bp)
    # Before views: its exact routes are matched ahead of the forwarding catch-all anyway, but
    # registering first keeps that independent of rule ordering.
    app.register_blueprint(account_views.bp)
    app.register_blueprint(deletion_views.bp)
    app.register_blueprint(billing_views.bp)
    app.register_blueprint(export_views.bp)
    app.register_blueprint(views.bp)
    internal.install(app, gw)
    if settings.proxy_hops > 0:
        # The client's address (per-IP limits, audit trails) is what the proxies in front
        # (nginx, an ingress) say it is: X-Forwarded-For's last PACTRA_PROXY_HOPS entries, so a
        # client's own X-Forwarded-For is never believed.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxy_hops, x_proto=settings.proxy_hops,
                                x_host=0, x_port=0, x_prefix=0)
    return app
