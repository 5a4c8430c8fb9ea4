"""The documents service's HTTP API: ``gunicorn 'pactra_documents.entrypoints.app:create_app()'``."""

from flask import Flask

from pactra_platform import sandbox
from pactra_platform.db import session_factory
from pactra_platform.objects import EncryptedObjectStore
from pactra_platform.settings import Settings, get_settings
from pactra_platform.web import create_internal_app

from ..documents import Documents
from ..views import EXTENSION, bp

SERVICE = "documents"
USES_STORAGE = True


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    app = create_internal_app(SERVICE, settings, uses_storage=USES_STORAGE)
    sessions = session_factory(settings, SERVICE)
    app.extensions[EXTENSION] = Documents(sessions, EncryptedObjectStore(settings, SERVICE, sessions))
    app.register_blueprint(bp)
    # Uploads are parsed and pages rendered in sandbox children: say once what protects them.
    sandbox.log_protections(SERVICE)
    return app
