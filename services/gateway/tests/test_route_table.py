"""The gateway's route table (``routing.OPERATIONS``) is complete and agrees with routing: a
route a service adds is missing here until it is in the table, and from then on the tenant
test (tests/e2e/test_tenant_matrix.py) calls it with another workspace's key."""

import importlib
import pkgutil
import re

from flask import Blueprint, Flask

from pactra_gateway.entrypoints import routing
from pactra_platform.settings import SERVICES

GATEWAY_OWN = {("POST", "/v1/signup"), ("GET", "/v1/workspace"), ("PATCH", "/v1/workspace"),
               ("POST", "/v1/api-keys"), ("GET", "/v1/api-keys"), ("DELETE", "/v1/api-keys/{}"),
               ("GET", "/v1/openapi.json"),
               # The account and its security log (account_views.py).
               ("GET", "/v1/account"), ("PATCH", "/v1/account"), ("POST", "/v1/account/verify-email"),
               ("POST", "/v1/account/confirm-email"), ("POST", "/v1/account/recover"),
               ("POST", "/v1/account/recover/key"), ("GET", "/v1/security-events"),
               # Usage and statements (billing_views.py).
               ("GET", "/v1/usage"), ("GET", "/v1/billing/statements"),
               ("GET", "/v1/billing/statements/{}"), ("GET", "/v1/billing/statements/{}.pdf"),
               # Exports and their download link (export_views.py).
               ("POST", "/v1/exports"), ("GET", "/v1/exports"), ("GET", "/v1/exports/{}"),
               ("GET", "/v1/exports/download/{}"),
               # A workspace's deletion (deletion_views.py).
               ("DELETE", "/v1/workspace"), ("POST", "/v1/deletions/confirm"),
               ("POST", "/v1/deletions/cancel"), ("GET", "/v1/deletions/{}")}


def _shape(template: str) -> str:
    """A path with its parameters erased: Flask's ``<int:page>`` and OpenAPI's ``{page}`` alike."""
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", template)


def _served() -> set[tuple[str, str, str]]:
    """(METHOD, path shape, service) of every public route each service's blueprints declare."""
    found = set()
    for service in SERVICES:
        package = importlib.import_module(f"pactra_{service}")
        # Every module, in the service's rooms (entrypoints/ and the rest) too.
        for module_info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            # Workers and the rooms without views are built at import, or have no routes.
            if module_info.ispkg or not _may_hold_views(module_info.name):
                continue
            module = importlib.import_module(module_info.name)
            for value in vars(module).values():
                if isinstance(value, Blueprint) and value.import_name == module.__name__:
                    app = Flask(f"probe_{service}")
                    app.register_blueprint(value)
                    for rule in app.url_map.iter_rules():
                        if not rule.rule.startswith(("/v1/", "/s/")) or "<path:" in rule.rule:
                            continue  # operations routes, static files, the gateway's catch-all
                        for method in rule.methods - {"HEAD", "OPTIONS"}:
                            found.add((method, _shape(rule.rule), service))
    return found


def _may_hold_views(module: str) -> bool:
    rooms = module.split(".")[1:]
    return not ({"bench", "migrations", "domain", "service_layer", "adapters"} & set(rooms)
                or rooms[-1] in ("worker", "bootstrap", "config"))


def _example(template: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", template)


def test_every_served_route_is_in_the_table():
    table = {(op.method.upper(), _shape(op.path)) for op in routing.OPERATIONS}
    served = _served()
    assert len(served) > 30  # the discovery found the services' blueprints
    missing = sorted((method, path) for method, path, _ in served if (method, path) not in table)
    # The signer page's "/s/{token}/{kind}" is one Flask rule for three table rows.
    missing = [m for m in missing if m != ("GET", "/s/{}/{}")]
    assert missing == [], f"add these to routing.OPERATIONS: {missing}"


def test_the_table_agrees_with_routing():
    served = {(method, path): service for method, path, service in _served()}
    for op in routing.OPERATIONS:
        method, path, public = op.method.upper(), op.path, op.public
        example = _example(path)
        assert routing.is_public(method, example) is public, (method, path)
        shape = (method, _shape(path))
        assert (op.service == routing.GATEWAY) is (shape in GATEWAY_OWN), (method, path)
        if shape in GATEWAY_OWN:
            continue
        # A table row the gateway forwards goes to the service that serves it.
        expected = served.get(shape) or served.get((method, "/s/{}/{}"))
        assert expected is not None, f"no service serves {method} {path}"
        assert routing.owner_of(example) == expected, (method, path)
