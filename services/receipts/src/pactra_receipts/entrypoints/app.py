"""The receipts service's HTTP API: ``gunicorn 'pactra_receipts.entrypoints.app:create_app()'``."""

from flask import Flask

from pactra_platform import sandbox
from pactra_platform.settings import Settings
from pactra_platform.web import create_internal_app

from ..adapters.metrics import register_evidence_collector
from ..bootstrap import SERVICE, USES_STORAGE, bootstrap
from .errors import register_errors
from .verification import public
from .views import EXTENSION, api


def create_app(settings: Settings | None = None) -> Flask:
    receipts = bootstrap(settings)
    app = create_internal_app(SERVICE, receipts.settings, uses_storage=USES_STORAGE)
    app.extensions[EXTENSION] = receipts
    app.register_blueprint(api)
    app.register_blueprint(public)
    register_errors(app)
    register_evidence_collector(receipts.sessions)
    # POST /v1/receipts/verify parses posted PDFs in sandbox children: say what protects them.
    sandbox.log_protections(SERVICE)
    return app
