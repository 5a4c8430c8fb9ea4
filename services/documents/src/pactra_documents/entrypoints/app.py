"""The documents service's HTTP API: ``gunicorn 'pactra_documents.entrypoints.app:create_app()'``."""

from flask import Flask

from pactra_platform import sandbox
from pactra_platform.web import create_internal_app

from .. import SERVICE
from ..bootstrap import bootstrap
from ..config import DocumentsSettings
from . import errors
from .views import EXTENSION, bp

USES_STORAGE = True


def create_app(settings: DocumentsSettings | None = None) -> Flask:
    documents = bootstrap(settings)
    app = create_internal_app(SERVICE, documents.settings, uses_storage=USES_STORAGE)
    app.extensions[EXTENSION] = documents
    app.register_blueprint(bp)
    errors.register(app)
    # Uploads are parsed and pages rendered in sandbox children: say once what protects them.
    sandbox.log_protections(SERVICE)
    return app
