"""The ai service through the gateway, with the real documents service, broker and database."""

from collections.abc import Iterator

import pytest
import requests

from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, signup, wait_until

from .ai_platform import ai_rows, contract_pdf, running_platform, upload, upload_handled


@pytest.fixture(scope="module")
def platform() -> Iterator[Stack]:
    with running_platform() as stack:
        yield stack


def test_analysis_on_request_is_advisory_and_points_into_the_text(platform: Stack) -> None:
    url = platform.gateway_url
    headers = auth(signup(url))
    document = upload(url, headers, contract_pdf())
    path = f"{url}/v1/documents/{document['id']}/analysis"
    assert requests.get(path, headers=headers, timeout=30).status_code == 404
    started = requests.post(path, headers=headers, timeout=30)
    assert started.status_code in (200, 202), started.text
    analysis = wait_until(lambda: (r := requests.get(path, headers=headers, timeout=30).json())
                          ["status"] == "ready" and r, timeout=60)
    assert analysis["advisory"] is True and analysis["engine"] == "offline" and analysis["model"]
    body = requests.get(f"{url}/v1/documents/{document['id']}/text", headers=headers, timeout=30)
    full = body.content.decode("utf-8")
    assert analysis["clauses"]
    for clause in analysis["clauses"]:
        assert full[clause["start"]:clause["end"]] == clause["text"]
        assert clause["page"] == 1 + full.count("\f", 0, clause["start"])
    assert any(c["type"] == "Governing Law" for c in analysis["clauses"])
    assert len(analysis["summary"]) <= 1200
    again = requests.post(path, headers=headers, timeout=30)
    assert again.status_code == 200 and again.json()["clauses"] == analysis["clauses"]
    # Another workspace sees nothing of it.
    other = auth(signup(url))
    assert requests.get(path, headers=other, timeout=30).status_code == 404
    assert requests.post(path, headers=other, timeout=30).status_code == 404
    completed = ai_rows(platform, "SELECT body FROM outbox WHERE type = 'analysis.completed'")
    assert any(row[0]["data"]["document_id"] == document["id"] for row in completed)


def test_opt_out_refuses_and_runs_nothing(platform: Stack) -> None:
    url = platform.gateway_url
    account = signup(url)
    headers = auth(account)
    workspace_id = account["workspace"]["id"]
    document = upload(url, headers, contract_pdf())
    patched = requests.patch(url + "/v1/workspace", json={"ai_enabled": False}, headers=headers,
                             timeout=30)
    assert patched.status_code == 200, patched.text
    wait_until(lambda: ai_rows(platform, "SELECT ai_enabled FROM workspace_ai_settings WHERE "
                               "workspace_id = :w", w=workspace_id) == [(False,)])
    path = f"{url}/v1/documents/{document['id']}/analysis"
    for method in ("POST", "GET"):
        refused = requests.request(method, path, headers=headers, timeout=30)
        assert refused.status_code == 403 and refused.json()["code"] == "ai_disabled"
    assert ai_rows(platform, "SELECT id FROM analyses WHERE workspace_id = :w", w=workspace_id) == []


def test_auto_analyze_on_upload_through_the_broker(platform: Stack) -> None:
    url = platform.gateway_url
    account = signup(url)
    headers = auth(account)
    workspace_id = account["workspace"]["id"]
    patched = requests.patch(url + "/v1/workspace", json={"ai_auto_analyze": True},
                             headers=headers, timeout=30)
    assert patched.status_code == 200, patched.text
    wait_until(lambda: ai_rows(platform, "SELECT ai_auto_analyze FROM workspace_ai_settings "
                               "WHERE workspace_id = :w", w=workspace_id) == [(True,)])
    document = upload(url, headers, contract_pdf())
    path = f"{url}/v1/documents/{document['id']}/analysis"
    analysis = wait_until(lambda: (r := requests.get(path, headers=headers, timeout=30)).ok
                          and r.json()["status"] == "ready" and r.json(), timeout=60)
    assert analysis["advisory"] is True and analysis["clauses"]


def test_turning_ai_off_holds_as_soon_as_the_patch_answers(platform: Stack) -> None:
    url = platform.gateway_url
    account = signup(url)
    headers = auth(account)
    document = upload(url, headers, contract_pdf())
    patched = requests.patch(url + "/v1/workspace", json={"ai_enabled": False}, headers=headers,
                             timeout=30)
    assert patched.status_code == 200, patched.text
    # At once, without waiting for workspace.updated to reach the ai service.
    path = f"{url}/v1/documents/{document['id']}/analysis"
    for method in ("POST", "GET"):
        refused = requests.request(method, path, headers=headers, timeout=30)
        assert refused.status_code == 403 and refused.json()["code"] == "ai_disabled", refused.text
    assert ai_rows(platform, "SELECT id FROM analyses WHERE workspace_id = :w",
                   w=account["workspace"]["id"]) == []


def test_auto_analysis_stops_as_soon_as_the_patch_answers(platform: Stack) -> None:
    url = platform.gateway_url
    account = signup(url)
    headers = auth(account)
    workspace_id = account["workspace"]["id"]
    assert requests.patch(url + "/v1/workspace", json={"ai_auto_analyze": True}, headers=headers,
                          timeout=30).status_code == 200
    # The ai service has heard of auto-analysis; it has not (necessarily) heard of what follows.
    wait_until(lambda: ai_rows(platform, "SELECT ai_auto_analyze FROM workspace_ai_settings "
                               "WHERE workspace_id = :w", w=workspace_id) == [(True,)])
    assert requests.patch(url + "/v1/workspace", json={"ai_enabled": False}, headers=headers,
                          timeout=30).status_code == 200
    document = upload(url, headers, contract_pdf())
    wait_until(lambda: upload_handled(platform, document["id"]), timeout=60)
    assert ai_rows(platform, "SELECT id FROM analyses WHERE workspace_id = :w", w=workspace_id) == []


def test_the_cache_does_not_tell_one_workspace_what_another_analysed(platform: Stack) -> None:
    url = platform.gateway_url

    def analyse(headers: dict) -> tuple[int, dict]:
        document = upload(url, headers, contract_pdf())
        path = f"{url}/v1/documents/{document['id']}/analysis"
        started = requests.post(path, headers=headers, timeout=30)
        done = wait_until(lambda: (r := requests.get(path, headers=headers, timeout=30).json())
                          ["status"] == "ready" and r, timeout=60)
        return started.status_code, done

    first_headers = auth(signup(url))
    _, first = analyse(first_headers)
    # The same bytes in another workspace: not answered from the first one's result.
    status, second = analyse(auth(signup(url)))
    assert status == 202 and second["clauses"] == first["clauses"]
    # The same bytes again in the first workspace: its own cache answers at once.
    status, _ = analyse(first_headers)
    assert status == 200
    sha256 = ai_rows(platform, "SELECT sha256 FROM analyses WHERE id = :i", i=first["id"])[0][0]
    scopes = ai_rows(platform, "SELECT scope FROM analysis_cache WHERE sha256 = :s", s=sha256)
    assert "*" not in {scope for (scope,) in scopes} and len(scopes) >= 2
