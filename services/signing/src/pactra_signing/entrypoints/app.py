"""The signing service's HTTP API: ``gunicorn 'pactra_signing.entrypoints.app:create_app()'``."""

from flask import Flask

from pactra_platform.settings import Settings
from pactra_platform.web import create_internal_app

from ..bootstrap import SERVICE, bootstrap
from . import errors, views_api, views_signer

USES_STORAGE = False


def create_app(settings: Settings | None = None) -> Flask:
    signing = bootstrap(settings)
    app = create_internal_app(SERVICE, signing.settings, uses_storage=USES_STORAGE)
    app.extensions["pactra_signing"] = signing
    app.register_blueprint(views_api.bp)
    app.register_blueprint(views_signer.bp)
    # The domain speaks in its own exceptions; here they become problem documents.
    errors.register(app)
    return app
