"""API keys and authentication, through the running gateway."""

import requests
from sqlalchemy import create_engine, text

from pactra_devtools.testing import auth, signup, unique_email, wait_until
from pactra_gateway.domain import api_keys


def test_signup_returns_a_key_shown_once_and_stored_only_as_its_hash(stack, gateway):
    account = signup(gateway)
    key = account["api_key"]["key"]
    assert key.startswith("pct_live_") and api_keys.well_formed(key)
    assert account["api_key"]["prefix"] == key[:12]

    listed = requests.get(gateway + "/v1/api-keys", headers=auth(account), timeout=10).json()
    assert [k["id"] for k in listed["data"]] == [account["api_key"]["id"]]
    assert "key" not in listed["data"][0]

    engine = create_engine(stack.settings.database_url_of("gateway"))
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT * FROM api_keys WHERE id = :id"),
                              {"id": account["api_key"]["id"]}).mappings().one()
    engine.dispose()
    assert key not in str(dict(stored))
    assert stored["key_hash"] == api_keys.hash_key(key)


def test_duplicate_signup_is_a_conflict(gateway):
    body = {"name": "Bo", "email": unique_email(), "workspace_name": "Bo's"}
    assert requests.post(gateway + "/v1/signup", json=body, timeout=10).status_code == 201
    body["email"] = body["email"].upper()
    again = requests.post(gateway + "/v1/signup", json=body, timeout=10)
    assert again.status_code == 409
    assert again.json()["code"] == "conflict"


def test_missing_bad_and_revoked_keys_are_401(gateway):
    account = signup(gateway)
    url = gateway + "/v1/workspace"
    assert requests.get(url, timeout=10).status_code == 401
    made_up = "pct_live_" + "a" * 46
    key = account["api_key"]["key"]
    mistyped = key[:-1] + ("y" if key.endswith("x") else "x")  # one character off, never the same
    for header in ("Bearer " + made_up, "Basic abc", "Bearer " + mistyped):
        response = requests.get(url, headers={"Authorization": header}, timeout=10)
        assert response.status_code == 401
        assert response.headers["Content-Type"] == "application/problem+json"
        assert response.json()["code"] == "unauthorized"

    second = requests.post(gateway + "/v1/api-keys", json={"name": "ci"}, headers=auth(account),
                           timeout=10).json()
    second_auth = {"Authorization": f"Bearer {second['key']}"}
    assert requests.get(url, headers=second_auth, timeout=10).status_code == 200
    revoked = requests.delete(gateway + f"/v1/api-keys/{second['id']}", headers=auth(account), timeout=10)
    assert revoked.status_code == 204
    assert requests.get(url, headers=second_auth, timeout=10).status_code == 401
    listed = requests.get(gateway + "/v1/api-keys", headers=auth(account), timeout=10).json()["data"]
    assert next(k for k in listed if k["id"] == second["id"])["revoked_at"] is not None


def test_another_workspaces_key_is_not_found(gateway):
    alice, bob = signup(gateway, "Alice"), signup(gateway, "Bob")
    response = requests.delete(gateway + f"/v1/api-keys/{bob['api_key']['id']}",
                               headers=auth(alice), timeout=10)
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert requests.get(gateway + "/v1/workspace", headers=auth(bob), timeout=10).status_code == 200


def test_key_list_pages_newest_first(gateway):
    account = signup(gateway)
    made = [requests.post(gateway + "/v1/api-keys", json={"name": f"k{i}"}, headers=auth(account),
                          timeout=10).json()["id"] for i in range(3)]
    first = requests.get(gateway + "/v1/api-keys?limit=2", headers=auth(account), timeout=10).json()
    assert [k["id"] for k in first["data"]] == made[::-1][:2]
    assert first["has_more"] is True
    rest = requests.get(gateway + f"/v1/api-keys?limit=2&starting_after={first['next_cursor']}",
                        headers=auth(account), timeout=10).json()
    assert [k["id"] for k in rest["data"]] == [made[0], account["api_key"]["id"]]
    assert rest["has_more"] is False and rest["next_cursor"] is None


def test_workspace_settings_change_and_reach_the_services_that_need_them(stack, gateway):
    account = signup(gateway)
    response = requests.patch(gateway + "/v1/workspace", headers=auth(account), timeout=10,
                              json={"name": "Renamed", "ai_enabled": False, "ai_auto_analyze": True})
    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Renamed" and response.json()["ai_enabled"] is False

    llm = requests.patch(gateway + "/v1/workspace", headers=auth(account), timeout=10,
                         json={"ai_engine": "llm"})
    assert llm.status_code == 422  # no provider is configured on this platform

    workspace_id = account["workspace"]["id"]
    engine = create_engine(stack.settings.database_url_of("ai"))

    def ai_settings():
        with engine.connect() as conn:
            return conn.execute(text("SELECT ai_enabled, ai_auto_analyze FROM workspace_ai_settings "
                                     "WHERE workspace_id = :w"), {"w": workspace_id}).first()

    try:
        assert tuple(wait_until(lambda: (row := ai_settings()) and row[0] is False and row)) == (False, True)
    finally:
        engine.dispose()
