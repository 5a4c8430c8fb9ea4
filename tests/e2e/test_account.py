"""The account (issue 15 item 1) and the abuse defences that need the whole platform (issue 16
item 4): correction with a confirmed email, recovery, sending before verification, reminder
cooldown, look-alike sender names, and the security log's hash chain."""

import hashlib
import threading

import requests
import rfc8785

from pactra_devtools.stack import Stack
from pactra_devtools.testing import (
    CONFIRM_LINK,
    RECOVER_LINK,
    auth,
    emailed_token,
    signup,
    unique_email,
    wait_until,
)

from . import flows


def account_of(gateway: str, account: dict) -> dict:
    response = requests.get(gateway + "/v1/account", headers=auth(account), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def security_log(gateway: str, account: dict, limit: int = 7) -> list[dict]:
    """The whole log, newest first, read page by page."""
    entries, cursor = [], None
    while True:
        params = {"limit": limit, **({"starting_after": cursor} if cursor else {})}
        response = requests.get(gateway + "/v1/security-events", params=params, headers=auth(account),
                                timeout=10)
        assert response.status_code == 200, response.text
        page = response.json()
        entries += page["data"]
        if not page["has_more"]:
            return entries
        cursor = page["next_cursor"]


def draft_sender(gateway: str, account: dict, document_id: str) -> dict:
    agreement = flows.create(gateway, account, document_id, flows.people(1))
    return {"id": agreement["id"], **agreement["sender"]}


def test_the_account_is_corrected_and_only_the_confirmed_new_email_is_used(stack: Stack, gateway: str):
    old_email = unique_email("ada")
    account = signup(gateway, "Ada Lovelace", email=old_email)  # confirmed by the helper
    shown = account_of(gateway, account)
    assert shown["owner"]["email"] == old_email and shown["owner"]["email_verified"] is True
    assert shown["pending_email"] is None and shown["workspace"]["id"] == account["workspace"]["id"]
    document = flows.upload(gateway, account)
    before = draft_sender(gateway, account, document["id"])
    assert (before["name"], before["email"]) == ("Ada Lovelace", old_email)

    new_email = unique_email("ada.king")
    patched = requests.patch(gateway + "/v1/account", json={"name": "Ada King", "email": new_email},
                             headers=auth(account), timeout=10)
    assert patched.status_code == 200, patched.text
    body = patched.json()
    assert body["owner"]["name"] == "Ada King"
    assert body["owner"]["email"] == old_email and body["pending_email"] == new_email

    # The new name applies; the pending address is never used as the sender's.
    renamed = wait_until(lambda: (s := draft_sender(gateway, account, document["id"]))["name"] == "Ada King"
                         and s, message="the new name reaches signing")
    assert renamed["email"] == old_email

    token = emailed_token(stack.mailbox_url, new_email, CONFIRM_LINK)
    page = requests.get(f"{gateway}/confirm-email/{token}", timeout=10)
    assert page.status_code == 200 and "form-action 'self'" in page.headers["Content-Security-Policy"]
    assert account_of(gateway, account)["pending_email"] == new_email  # the page alone changes nothing
    confirmed = requests.post(gateway + "/v1/account/confirm-email", json={"token": token}, timeout=10)
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json() == {"email": new_email, "email_verified": True}
    again = requests.post(gateway + "/v1/account/confirm-email", json={"token": token}, timeout=10)
    assert again.status_code == 404 and again.json()["code"] == "not_found"
    shown = account_of(gateway, account)
    assert shown["owner"]["email"] == new_email and shown["owner"]["email_verified"] is True
    assert shown["pending_email"] is None

    later = wait_until(lambda: (s := draft_sender(gateway, account, document["id"]))["email"] == new_email
                       and s, message="the confirmed email reaches signing")
    assert later["name"] == "Ada King"
    # Sent: the invitation names the corrected sender, with the address beside the name.
    sent = flows.act(gateway, account, later["id"], "send")
    invitation = wait_until(lambda: next(iter(flows.mails(stack, sent["signers"][0]["email"], "to sign")),
                                         None))
    assert f"Ada King ({new_email})" in invitation["html"]
    # What was made before the change keeps the sender it was made with.
    assert flows.get(gateway, account, before["id"])["sender"] == {"name": "Ada Lovelace",
                                                                   "email": old_email}
    types = [entry["type"] for entry in security_log(gateway, account)]
    assert "email.changed" in types and types.count("email.verified") == 2  # signup's and the new one


def test_a_confirmation_token_is_single_purpose(stack: Stack, gateway: str):
    email = unique_email("purpose")
    signup(gateway, "Purpose Test", email=email, verify=False)
    token = emailed_token(stack.mailbox_url, email, CONFIRM_LINK)
    # A confirmation token is not a recovery token, and an unknown one is unknown.
    assert requests.post(gateway + "/v1/account/recover/key", json={"token": token},
                         timeout=10).status_code == 404
    assert requests.post(gateway + "/v1/account/confirm-email", json={"token": "x" * 43},
                         timeout=10).status_code == 404
    bad = requests.post(gateway + "/v1/account/confirm-email", json={"token": 5}, timeout=10)
    assert bad.status_code == 422
    assert requests.post(gateway + "/v1/account/confirm-email", json={"token": token},
                         timeout=10).status_code == 200


def test_recovery_never_reveals_an_account_and_mints_a_key(stack: Stack, gateway: str):
    email = unique_email("lost")
    account = signup(gateway, "Lost Keys", email=email)
    unknown = unique_email("nobody")
    answers = [requests.post(gateway + "/v1/account/recover", json={"email": address}, timeout=10)
               for address in (email, unknown)]
    assert [a.status_code for a in answers] == [202, 202]
    assert answers[0].json() == answers[1].json()

    token = emailed_token(stack.mailbox_url, email, RECOVER_LINK)
    assert stack.messages(to=unknown) == []  # the owner's mail came; none for the stranger
    page = requests.get(f"{gateway}/recover/{token}", timeout=10)
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    minted = requests.post(gateway + "/v1/account/recover/key", json={"token": token}, timeout=10)
    assert minted.status_code == 201, minted.text
    new_key = minted.json()["key"]
    assert new_key.startswith("pct_")
    workspace = requests.get(gateway + "/v1/workspace", headers={"Authorization": f"Bearer {new_key}"},
                             timeout=10)
    assert workspace.status_code == 200 and workspace.json()["id"] == account["workspace"]["id"]
    # The old key still works, and the link worked once.
    assert requests.get(gateway + "/v1/workspace", headers=auth(account), timeout=10).status_code == 200
    assert requests.post(gateway + "/v1/account/recover/key", json={"token": token},
                         timeout=10).status_code == 404
    # The page's form does the same, once, and shows the key.
    again = requests.post(gateway + "/v1/account/recover", json={"email": email}, timeout=10)
    assert again.status_code == 202
    second = emailed_token(stack.mailbox_url, email, RECOVER_LINK, skip=1)
    form = requests.post(f"{gateway}/recover", data={"token": second}, timeout=10)
    assert form.status_code == 201 and "pct_live_" in form.text
    assert requests.post(f"{gateway}/recover", data={"token": second}, timeout=10).status_code == 404
    recovered = [e for e in security_log(gateway, account) if e["type"] == "api_key.created"
                 and e["data"].get("via") == "recovery"]
    assert len(recovered) == 2


def test_an_unverified_owner_sends_only_to_their_own_address(stack: Stack, gateway: str):
    email = unique_email("fresh")
    account = signup(gateway, "Fresh Owner", email=email, verify=False)
    document = flows.upload(gateway, account)
    to_others = flows.create(gateway, account, document["id"], flows.people(1))
    refused = requests.post(f"{gateway}/v1/agreements/{to_others['id']}/send", headers=auth(account),
                            timeout=30)
    assert refused.status_code == 403 and refused.json()["code"] == "email_unverified", refused.text
    assert flows.get(gateway, account, to_others["id"])["status"] == "draft"
    to_self = flows.create(gateway, account, document["id"], [{"name": "Fresh Owner", "email": email}])
    assert flows.act(gateway, account, to_self["id"], "send")["status"] == "sent"

    # A new link on request (202); following it lets the draft go.
    resent = requests.post(gateway + "/v1/account/verify-email", headers=auth(account), timeout=10)
    assert resent.status_code == 202
    token = emailed_token(stack.mailbox_url, email, CONFIRM_LINK)
    form = requests.post(f"{gateway}/confirm-email", data={"token": token}, timeout=10)
    assert form.status_code == 200 and "confirmed" in form.text
    assert flows.act(gateway, account, to_others["id"], "send")["status"] == "sent"


def test_a_signer_is_reminded_at_most_once_an_hour(stack: Stack, gateway: str):
    account = signup(gateway, "Reminding Owner")
    document = flows.upload(gateway, account)
    agreement = flows.create(gateway, account, document["id"], flows.people(2))
    flows.act(gateway, account, agreement["id"], "send")
    first = requests.post(f"{gateway}/v1/agreements/{agreement['id']}/remind", headers=auth(account),
                          timeout=30)
    assert first.status_code == 200, first.text  # the invitation does not count
    again = requests.post(f"{gateway}/v1/agreements/{agreement['id']}/remind", headers=auth(account),
                          timeout=30)
    assert again.status_code == 429 and again.json()["code"] == "rate_limited"
    assert 3500 <= int(again.headers["Retry-After"]) <= 3600
    for signer in agreement["signers"]:
        reminders = wait_until(lambda s=signer: flows.mails(stack, s["email"], "reminder"))
        assert len(reminders) == 1


def test_look_alike_sender_names_are_refused(gateway: str):
    for name in ("Pactra", "P\u0430ctra Billing", "DocuSign", "PayPaI", "Security  Team",
                 "\uff30\uff41\uff43\uff54\uff52\uff41", "Ada\u202eecalevoL", "Ada\nLovelace"):
        response = requests.post(gateway + "/v1/signup", json={
            "name": name, "email": unique_email("lookalike"), "workspace_name": "W"}, timeout=10)
        assert response.status_code == 422, (name, response.text)
        assert response.json()["errors"][0]["field"] == "name"
    account = signup(gateway, "Zo\u00eb Smith", verify=False)  # accents are no look-alike
    patched = requests.patch(gateway + "/v1/account", json={"name": "Docu-Sign Support"},
                             headers=auth(account), timeout=10)
    assert patched.status_code == 422 and patched.json()["code"] == "validation_error"
    assert account_of(gateway, account)["owner"]["name"] == "Zo\u00eb Smith"


def test_the_security_log_chains_and_verifies(gateway: str):
    account = signup(gateway, "Log Keeper")
    created = requests.post(gateway + "/v1/api-keys", json={"name": "ci"}, headers=auth(account),
                            timeout=10).json()
    assert requests.delete(f"{gateway}/v1/api-keys/{created['id']}", headers=auth(account),
                           timeout=10).status_code == 204
    # Appends racing from many requests never fork the chain.
    statuses = []

    def make_key(index: int) -> None:
        response = requests.post(gateway + "/v1/api-keys", json={"name": f"racer {index}"},
                                 headers=auth(account), timeout=30)
        statuses.append(response.status_code)

    racers = [threading.Thread(target=make_key, args=(i,)) for i in range(12)]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()
    assert statuses == [201] * 12

    newest_first = security_log(gateway, account, limit=5)
    types = [entry["type"] for entry in newest_first]
    assert types.count("api_key.created") == 14 and types.count("api_key.revoked") == 1
    assert "email.verified" in types
    entries = list(reversed(newest_first))
    previous = "0" * 64
    for entry in entries:
        assert set(entry) == {"id", "type", "at", "actor", "ip", "data", "prev", "hash"}
        assert entry["prev"] == previous, "the chain forked or skipped"
        unhashed = {k: v for k, v in entry.items() if k != "hash"}
        assert entry["hash"] == hashlib.sha256(rfc8785.dumps(unhashed)).hexdigest()
        previous = entry["hash"]
    revoked = next(e for e in entries if e["type"] == "api_key.revoked")
    assert revoked["data"]["key_id"] == created["id"] and revoked["actor"]["kind"] == "api_key"
    assert revoked["ip"]
    # Another workspace sees none of it.
    other = signup(gateway, "Other Keeper", verify=False)
    assert all(e["id"] not in {x["id"] for x in entries} for e in security_log(gateway, other))
