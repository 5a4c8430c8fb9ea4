"""``/v1/openapi.json``, ``/docs`` (Swagger UI 5, which renders OpenAPI 3.1, vendored in
``vendor/swagger-ui`` at a pinned version so that nothing is fetched from the internet), and
the methods of each documented path: a method the document does not list is answered 405,
and ``OPTIONS`` answered, with an ``Allow`` that lists exactly the document's methods."""

import secrets
from pathlib import Path

from flask import Blueprint, Response, current_app, request, send_from_directory

from pactra_platform.problems import ProblemError

from . import routing
from .openapi import document

bp = Blueprint("docs", __name__)
SWAGGER_DIR = Path(__file__).parent / "vendor" / "swagger-ui"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pactra API</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<link rel="stylesheet" href="/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/static/swagger-ui-bundle.js"></script>
<script nonce="{nonce}">SwaggerUIBundle({url: "/v1/openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>"""


@bp.get("/v1/openapi.json")
def openapi_json() -> dict:
    return document(current_app.config["SETTINGS"].public_url)


@bp.get("/docs")
def docs_page() -> tuple[str, int, dict]:
    nonce = secrets.token_urlsafe(16)
    # Swagger UI sets inline styles on its elements, hence 'unsafe-inline' for styles only.
    return PAGE.replace("{nonce}", nonce), 200, {
        "Content-Type": "text/html; charset=utf-8", "X-Frame-Options": "DENY",
        "Referrer-Policy": "no-referrer",
        "Content-Security-Policy": (f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; "
                                    "style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
                                    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    }


@bp.get("/docs/static/<path:filename>")
def docs_static(filename: str):
    return send_from_directory(SWAGGER_DIR, filename)


@bp.before_app_request
def methods_of_the_document() -> Response | None:
    """After the edge's checks (its hooks are installed first): a path of the route table is
    answered for a method the document does not list here, before any forwarding, so that
    every service's path has the same ``Allow`` (not the forwarding route's methods)."""
    methods = routing.allowed_methods(request.path)
    if not methods:
        return None
    allow = {"Allow": ", ".join(methods)}
    if request.method == "OPTIONS":
        return Response(status=204, headers=allow)
    if request.method not in methods and not (request.method == "HEAD" and "GET" in methods):
        raise ProblemError("method_not_allowed", f"{request.method} is not a method of "
                           f"{request.path}; it has {allow['Allow']}.", headers=allow)
    return None
