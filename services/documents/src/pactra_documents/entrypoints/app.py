"""The documents service's HTTP API: ``gunicorn 'pactra_documents.entrypoints.app:create_app()'``."""

from flask import Flask

from pactra_platform.settings import Settings, get_settings
from pactra_platform.web import create_internal_app

SERVICE = "documents"
USES_STORAGE = True


def create_app(settings: Settings | None = None) -> Flask:
    return create_internal_app(SERVICE, settings or get_settings(), uses_storage=USES_STORAGE)
