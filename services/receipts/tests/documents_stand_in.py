"""A stand-in for the documents service's content route: it speaks the real internal-signature
protocol, so the receipts service calls it exactly as it will call the real one."""

import hashlib
import threading

from flask import Flask, Response, request
from werkzeug.serving import make_server

from pactra_platform import internal_auth
from pactra_platform.settings import Settings


class DocumentsStandIn:
    """Serves ``GET /v1/documents/{id}/content`` to correctly signed calls, per workspace."""

    def __init__(self, settings: Settings, port: int) -> None:
        verifier = internal_auth.Verifier.for_service(settings, "documents")
        seen: set[tuple[str, str]] = set()  # one process: its memory is every replica's
        self.documents: dict[str, tuple[str, bytes]] = {}
        self.calls: list[str] = []
        # Document ids whose content is answered only once their event is set (or after a
        # minute): a caller caught in the middle of its work, to be killed there.
        self.held: dict[str, threading.Event] = {}
        app = Flask("documents-stand-in")

        @app.get("/v1/documents/<document_id>/content")
        def content(document_id: str) -> Response:
            self.calls.append(document_id)
            signed = verifier.verify("GET", request.path, request.headers)
            if (signed is None or signed.body_sha256 != internal_auth.EMPTY_SHA256
                    or (signed.calling_service, signed.nonce) in seen):
                return Response("unsigned", status=401)
            seen.add((signed.calling_service, signed.nonce))
            if document_id in self.held:
                self.held[document_id].wait(60)
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
