"""``Idempotency-Key`` on authenticated POSTs (api.md)."""

import threading

import psycopg
import requests
from sqlalchemy.engine import make_url

from pactra_devtools.testing import auth, signup, wait_until


def _post_key(gateway, account, key, name="ci"):
    return requests.post(gateway + "/v1/api-keys", json={"name": name}, timeout=30,
                         headers={**auth(account), "Idempotency-Key": key})


def test_replay_returns_the_first_response(stack, gateway):
    account = signup(gateway)
    first = _post_key(gateway, account, "create-ci-key")
    again = _post_key(gateway, account, "create-ci-key")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    keys = requests.get(gateway + "/v1/api-keys", headers=auth(account), timeout=10).json()["data"]
    assert len(keys) == 2  # the signup key and one new key, not two

    # The stored response holds a secret (the new key): it must not be readable at rest.
    conn_info = make_url(stack.settings.database_url_of("gateway")).set(drivername="postgresql")
    with psycopg.connect(conn_info.render_as_string(hide_password=False)) as conn:
        stored = conn.execute("SELECT response_body FROM idempotency_records").fetchall()
    assert stored and all(first.json()["key"].encode() not in bytes(row[0]) for row in stored)


def test_keys_are_scoped_to_the_workspace(gateway):
    alice, bob = signup(gateway, "Alice"), signup(gateway, "Bob")
    assert _post_key(gateway, alice, "same-key").status_code == 201
    bobs = _post_key(gateway, bob, "same-key")
    assert bobs.status_code == 201 and "Idempotent-Replayed" not in bobs.headers


def test_reuse_with_another_body_is_422(gateway):
    account = signup(gateway)
    assert _post_key(gateway, account, "k1", name="first").status_code == 201
    reused = _post_key(gateway, account, "k1", name="second")
    assert reused.status_code == 422
    assert reused.json()["code"] == "idempotency_key_reused"


def test_concurrent_replay_is_409_while_the_first_runs(stack, gateway):
    account = signup(gateway)
    # Warm up so authentication does not need to write last_used_at while the table is locked.
    assert requests.get(gateway + "/v1/api-keys", headers=auth(account), timeout=10).ok
    url = make_url(stack.settings.database_url_of("gateway")).set(drivername="postgresql")
    results = {}
    with psycopg.connect(url.render_as_string(hide_password=False)) as blocker:
        # Hold the api_keys table so the first request claims its key and then waits,
        # mid-flight, exactly as a slow request would.
        blocker.execute("LOCK TABLE api_keys IN EXCLUSIVE MODE")
        first = threading.Thread(
            target=lambda: results.setdefault("first", _post_key(gateway, account, "slow")))
        first.start()

        def first_is_waiting():
            rows = blocker.execute("SELECT count(*) FROM pg_locks WHERE NOT granted").fetchone()
            return rows[0] > 0

        wait_until(first_is_waiting)
        overlapping = _post_key(gateway, account, "slow")
        assert overlapping.status_code == 409
        assert overlapping.json()["code"] == "idempotency_in_progress"
        blocker.rollback()
    first.join(30)
    assert results["first"].status_code == 201
    replay = _post_key(gateway, account, "slow")
    assert replay.status_code == 201 and replay.json() == results["first"].json()
    assert replay.headers["Idempotent-Replayed"] == "true"
