"""The signing service's HTTP API: ``gunicorn 'pactra_signing.entrypoints.app:create_app()'``."""

from flask import Flask

from pactra_platform import readiness
from pactra_platform.settings import Settings, get_settings
from pactra_platform.storage import bucket_name
from pactra_platform.web import create_service_app

SERVICE = "signing"
USES_STORAGE = False


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    settings.require_secrets()
    checks = {"database": readiness.database(settings, SERVICE), "broker": readiness.broker(settings)}
    if USES_STORAGE:
        checks["storage"] = readiness.storage(settings, bucket_name(settings, SERVICE))
    return create_service_app(SERVICE, settings, readiness=checks)
