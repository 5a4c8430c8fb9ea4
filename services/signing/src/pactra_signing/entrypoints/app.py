"""The signing service's HTTP API: ``gunicorn 'pactra_signing.entrypoints.app:create_app()'``."""

from flask import Flask

from pactra_contracts.problems import FieldError, Problem
from pactra_platform.problems import problem_response
from pactra_platform.settings import Settings, get_settings
from pactra_platform.web import create_internal_app

from .. import agreements, views_api, views_signer
from ..bootstrap import SERVICE, bootstrap

USES_STORAGE = False


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or get_settings()
    app = create_internal_app(SERVICE, settings, uses_storage=USES_STORAGE)
    app.extensions["pactra_signing"] = bootstrap(settings)
    app.register_blueprint(views_api.bp)
    app.register_blueprint(views_signer.bp)

    # The domain speaks in its own exceptions; here they become problem documents.
    @app.errorhandler(agreements.NotFound)
    def not_found(exc: agreements.NotFound):
        return problem_response(Problem.of("not_found", "No such agreement, signer or link."))

    @app.errorhandler(agreements.Conflict)
    def conflict(exc: agreements.Conflict):
        return problem_response(Problem.of("conflict", str(exc)))

    @app.errorhandler(agreements.Gone)
    def gone(exc: agreements.Gone):
        return problem_response(Problem.of("gone", str(exc)))

    @app.errorhandler(agreements.Invalid)
    def invalid(exc: agreements.Invalid):
        return problem_response(Problem.of(
            "validation_error", str(exc), [FieldError(field=exc.field, message=str(exc))]))

    return app
