"""The receipts service's HTTP API: ``gunicorn 'pactra_receipts.entrypoints.app:create_app()'``."""

from flask import Flask

from pactra_platform import sandbox
from pactra_platform.settings import Settings, get_settings
from pactra_platform.web import create_internal_app

from ..metrics import register_evidence_collector
from ..verification import public
from ..views import api

SERVICE = "receipts"
USES_STORAGE = True


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    app = create_internal_app(SERVICE, settings, uses_storage=USES_STORAGE)
    app.register_blueprint(api)
    app.register_blueprint(public)
    register_evidence_collector(settings)
    # POST /v1/receipts/verify parses posted PDFs in sandbox children: say what protects them.
    sandbox.log_protections(SERVICE)
    return app
