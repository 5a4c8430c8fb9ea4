"""A stand-in for the documents service's content route: it speaks the real internal-signature
protocol, so the receipts service calls it exactly as it will call the real one."""

import hashlib
import threading

from flask import Flask, Response, request
from werkzeug.serving import make_server

from pactra_platform import internal_auth


class DocumentsStandIn:
    """Serves ``GET /v1/documents/{id}/content`` to correctly signed calls, per workspace."""

    def __init__(self, secret: str, port: int) -> None:
        self.documents: dict[str, tuple[str, bytes]] = {}
        self.calls: list[str] = []
        app = Flask("documents-stand-in")

        @app.get("/v1/documents/<document_id>/content")
        def content(document_id: str) -> Response:
            self.calls.append(document_id)
            if not internal_auth.verify(secret, "GET", request.path, request.headers):
                return Response("unsigned", status=401)
            owner, data = self.documents.get(document_id, (None, b""))
            if owner is None or owner != request.headers.get(internal_auth.WORKSPACE):
                return Response("not found", status=404)
            return Response(data, mimetype="application/pdf")

        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def add(self, workspace_id: str, document_id: str, data: bytes) -> str:
        self.documents[document_id] = (workspace_id, data)
        return hashlib.sha256(data).hexdigest()

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(10)
