"""The OpenAPI document describes what a client needs to call each operation."""

import re

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
