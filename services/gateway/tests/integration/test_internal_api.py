"""The gateway's internal API (internal.py): a workspace's current AI settings, for signed
calls from another service only."""

import requests

from pactra_devtools.testing import auth, signup
from pactra_platform import internal_auth


def test_ai_settings_answer_signed_calls_only_and_are_current(stack, gateway):
    account = signup(gateway)
    workspace_id = account["workspace"]["id"]
    path = f"/internal/workspaces/{workspace_id}/ai-settings"
    base = stack.settings.url_of("gateway")
    ai = internal_auth.Signer.for_service(stack.settings, "ai")

    def ask(workspace: str = workspace_id, at: str = path) -> requests.Response:
        headers = ai.sign("gateway", "GET", at, {internal_auth.WORKSPACE: workspace})
        return requests.get(base + at, headers=headers, timeout=10)

    unsigned = requests.get(base + path, timeout=10)
    assert unsigned.status_code == 401 and unsigned.json()["code"] == "unauthorized"
    # An API key is no way in either.
    assert requests.get(base + path, headers=auth(account), timeout=10).status_code == 401
    assert ask().json() == {"workspace_id": workspace_id, "ai_enabled": True,
                            "ai_engine": "offline", "ai_auto_analyze": False}
    # The answer right after the PATCH is the new setting (no event in between).
    patched = requests.patch(gateway + "/v1/workspace", json={"ai_enabled": False},
                             headers=auth(account), timeout=10)
    assert patched.status_code == 200
    assert ask().json()["ai_enabled"] is False
    # Asking about one workspace while acting for another; a workspace that does not exist.
    assert ask(workspace="ws_other").status_code == 403
    missing = "/internal/workspaces/ws_missing/ai-settings"
    assert ask(workspace="ws_missing", at=missing).status_code == 404
    # A signed call is good once.
    headers = ai.sign("gateway", "GET", path, {internal_auth.WORKSPACE: workspace_id})
    assert requests.get(base + path, headers=headers, timeout=10).status_code == 200
    assert requests.get(base + path, headers=headers, timeout=10).status_code == 401
