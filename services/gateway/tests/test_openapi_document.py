"""The OpenAPI document describes what a client needs to call each operation."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from pactra_gateway.entrypoints.openapi import document


def test_every_list_documents_its_paging_and_every_path_its_parameters() -> None:
    paths = document("http://127.0.0.1:8080")["paths"]
    lists = [(path, op) for path, ops in paths.items() for method, op in ops.items()
             if method == "get" and op["summary"].startswith("List")]
    assert {path for path, _ in lists} >= {"/v1/documents", "/v1/agreements", "/v1/api-keys"}
    for path, operation in lists:
        names = {p["name"] for p in operation["parameters"] if p["in"] == "query"}
        assert {"limit", "starting_after"} <= names, path
    for path, ops in paths.items():
        for operation in ops.values():
            declared = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert declared == set(re.findall(r"{(\w+)}", path)), path


def test_every_answer_is_typed_and_every_error_is_a_problem() -> None:
    paths = document("http://127.0.0.1:8080")["paths"]
    for path, ops in paths.items():
        for method, operation in ops.items():
            assert "default" not in operation["responses"], (method, path)
            for status, response in operation["responses"].items():
                if status == "204":
                    continue
                (media, content), = response["content"].items()
                assert content["schema"], (method, path, status)
                if status >= "400":
                    assert media == "application/problem+json", (method, path, status)
                    assert content["schema"]["$ref"].endswith("/Problem"), (method, path, status)


def test_a_python_client_generated_from_the_document_imports(tmp_path) -> None:
    source = tmp_path / "openapi.json"
    source.write_text(json.dumps(document("http://127.0.0.1:8080")))
    # The files the API answers (PDFs, page images, the export's zip, PEM) are bytes to the
    # client: the generator reads only these media types as such.
    config = tmp_path / "config.yaml"
    config.write_text("content_type_overrides:\n" + "".join(
        f"  {media}: application/octet-stream\n"
        for media in ("application/pdf", "image/png", "application/zip", "application/x-pem-file"))
        + "  text/html: text/plain\n")
    tool = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [str(tool), "generate", "--path", str(source), "--output-path", str(tmp_path / "client"),
         "--meta", "none", "--config", str(config)],
        capture_output=True, text=True, timeout=300, check=False,
        # Its ruff post-hooks run from PATH: the project's own ruff.
        env={**os.environ, "PATH": f"{tool.parent}{os.pathsep}{os.environ.get('PATH', '')}"})
    assert result.returncode == 0 and "Warning" not in result.stdout + result.stderr, (
        result.stdout + result.stderr)
    check = subprocess.run(
        [sys.executable, "-c", "import client, client.api.signing.post_agreements, "
         "client.models.agreement; print(client.AuthenticatedClient)"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert check.returncode == 0, check.stderr
