"""The OpenAPI 3.1 document of the public API, generated from the route table
(``routing.OPERATIONS``) and the contract's pydantic models: every answer typed, every path
parameter declared, every status an operation really gives documented (the errors as RFC 9457
problems)."""

import re
from functools import lru_cache
from typing import Any

from pydantic.json_schema import models_json_schema

from pactra_contracts.problems import PROBLEM_CONTENT_TYPE, Problem

from .routing import OPERATIONS, Operation, is_upload

PATH_PARAMETER = re.compile(r"{(\w+)}")
# Every list pages the same way (api.md, "Lists"): next_cursor goes into starting_after.
LIST_PARAMETERS = [
    {"name": "limit", "in": "query", "required": False,
     "description": "How many items, newest first (1 to 100).",
     "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
    {"name": "starting_after", "in": "query", "required": False,
     "description": "The previous page's `next_cursor`: the items after that id (422 if it is "
                    "not an id of this list).",
     "schema": {"type": "string"}},
]
PATH_SCHEMAS = {
    "page": {"type": "integer", "minimum": 1},
    "period": {"type": "string", "pattern": r"^\d{4}-\d{2}$"},
}
# The bodies that are files, not JSON (routing.UPLOADS).
UPLOAD_BODIES: dict[str, dict[str, Any]] = {
    "/v1/documents": {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}}}},
    },
    "/v1/receipts/verify": {
        "application/json": {"schema": {"type": "object", "description": "A receipt"}},
        "multipart/form-data": {"schema": {
            "type": "object", "required": ["receipt"],
            "properties": {name: {"type": "string", "format": "binary"}
                           for name in ("receipt", "audit", "document", "signed_pdf")}}},
    },
}
UPLOAD_QUERY = {"/v1/documents": [{
    "name": "filename", "in": "query", "required": False,
    "description": "The document's name (a raw body has none of its own).",
    "schema": {"type": "string", "maxLength": 255}}]}
# Why a request the schema allows may still be refused: what the schema cannot say.
WHY = {
    400: "The body is not valid JSON",
    401: "No API key, or not a valid one",
    402: "The plan's monthly quota is spent (quota_exceeded)",
    403: "This key may not do this (a test key on live-only routes; AI disabled; the owner's "
         "email unverified)",
    404: "No such object in this workspace (or no such link)",
    409: "The object's state forbids it, or a request with this Idempotency-Key is in progress",
    410: "The link or object has expired or ended",
    413: "The body is too large",
    415: "The body's media type is not one this operation reads",
    422: "The request is well formed but refused: invalid members, an id that is not this "
         "workspace's, or a setting this platform does not offer",
    429: "Too many requests: retry after the window resets (RateLimit-Reset)",
    502: "The service behind the gateway did not answer",
    503: "Briefly unavailable (Retry-After)",
}


def _error_statuses(op: Operation) -> list[int]:
    """The error statuses an operation can give, from what the gateway and the services do:
    every one may be rate limited or briefly unavailable; keys are checked unless it is
    public; a body may be malformed, too large or of the wrong type; an id may not exist."""
    statuses = {429, 503}
    has_body = op.request is not None or is_upload(op.method.upper(), op.path)
    if has_body:
        statuses |= {400, 413, 415, 422}
    if _has_query(op) or (op.method == "post" and not op.public) or "{page}" in op.path:
        statuses |= {422}  # a cursor not of this list, a reused Idempotency-Key, a page past the end
    if not op.public:
        statuses |= {401, 403}
    if "{" in op.path or op.public:
        statuses |= {404}
    if op.method != "get" and not op.public:
        statuses |= {402}
    if op.method != "get":
        statuses |= {409}  # public ones too: an email that has a workspace, a deletion cancelled
    if op.public and "{token}" in op.path:
        statuses |= {409, 410}
    if op.service != "gateway":
        statuses |= {502}
    return sorted(statuses)


def _has_query(op: Operation) -> bool:
    return _is_list(op) or (op.path in UPLOAD_QUERY and is_upload(op.method.upper(), op.path))


def _is_list(op: Operation) -> bool:
    return op.method == "get" and op.summary.startswith("List")


def _success(op: Operation, refs: dict) -> dict[str, Any]:
    response: dict[str, Any] = {"description": op.summary}
    if op.status == 204:
        return response
    if op.response is not None:
        response["content"] = {"application/json": {"schema": refs[(op.response, "serialization")]}}
    elif op.media == "application/json":
        response["content"] = {"application/json": {"schema": {"type": "object"}}}
    elif op.media.startswith("text/"):
        response["content"] = {op.media: {"schema": {"type": "string"}}}
    else:
        response["content"] = {op.media: {"schema": {"type": "string", "format": "binary"}}}
    return response


@lru_cache
def document(public_url: str) -> dict:
    keys = ([(op.request, "validation") for op in OPERATIONS if op.request]
            + [(op.response, "serialization") for op in OPERATIONS if op.response]
            + [(Problem, "serialization")])
    refs, schemas = models_json_schema(list(dict.fromkeys(keys)),
                                       ref_template="#/components/schemas/{model}")
    problem = {PROBLEM_CONTENT_TYPE: {"schema": refs[(Problem, "serialization")]}}
    paths: dict[str, dict] = {}
    for op in OPERATIONS:
        operation: dict = {"operationId": _operation_id(op), "summary": op.summary,
                           "tags": [op.service]}
        if op.public:
            operation["security"] = []
        if op.request:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": refs[(op.request, "validation")]}}}
        elif op.path in UPLOAD_BODIES and op.method != "get":  # not the list at the same path
            operation["requestBody"] = {"required": True, "content": UPLOAD_BODIES[op.path]}
        responses = {str(op.status): _success(op, refs)}
        for status in _error_statuses(op):
            responses[str(status)] = {"description": WHY[status], "content": problem}
        operation["responses"] = responses
        parameters = [{"name": name, "in": "path", "required": True,
                       "schema": PATH_SCHEMAS.get(name, {"type": "string", "minLength": 1})}
                      for name in PATH_PARAMETER.findall(op.path)]
        if is_upload(op.method.upper(), op.path):  # not the list at the same path
            parameters += UPLOAD_QUERY.get(op.path, [])
        if op.method == "post" and not op.public:
            parameters.append({
                "name": "Idempotency-Key", "in": "header", "required": False,
                "description": "Repeat the request with the same key to get the same answer "
                               "once (24 h).",
                "schema": {"type": "string", "minLength": 1, "maxLength": 255,
                           "pattern": r"^[!-~]+$"},
            })
        if _is_list(op):
            parameters += LIST_PARAMETERS
        if parameters:
            operation["parameters"] = parameters
        paths.setdefault(op.path, {})[op.method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Pactra API", "version": "1.0.0",
                 "description": "Send agreements for signature; verify the evidence offline."},
        "servers": [{"url": public_url}],
        "security": [{"apiKey": []}],
        "paths": paths,
        "components": {
            "schemas": schemas.get("$defs", {}),
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer",
                                           "description": "pct_live_... API key"}},
        },
    }


def _operation_id(op: Operation) -> str:
    words = re.sub(r"[{}]", "", op.path.removeprefix("/v1/")).replace(".", "_")
    return op.method + "_" + re.sub(r"[^A-Za-z0-9]+", "_", words).strip("_")
