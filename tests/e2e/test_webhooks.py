"""Webhooks through the whole platform: a local receiver (127.0.0.1 only) checks every
signature with the ``standardwebhooks`` library. The stack allows http and loopback receivers
and shortens the retry schedule to 1 s steps (PACTRA_WEBHOOKS_*)."""

import json
import subprocess
from datetime import timedelta

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from pactra_devtools.processes import stop_group
from pactra_devtools.stack import worker_command
from pactra_devtools.testing import auth, signup, wait_until
from pactra_devtools.webhook_receiver import Reply, running_receiver

from . import flows


def create_endpoint(gateway, account, url, events=("*",)):
    response = requests.post(gateway + "/v1/webhooks", headers=auth(account),
                             json={"url": url, "events": list(events)}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def deliveries(gateway, account, endpoint_id):
    response = requests.get(gateway + f"/v1/webhooks/{endpoint_id}/deliveries?limit=100",
                            headers=auth(account), timeout=10)
    assert response.status_code == 200, response.text
    return response.json()["data"]


def ping(gateway, account, endpoint_id):
    response = requests.post(gateway + f"/v1/webhooks/{endpoint_id}/test", headers=auth(account),
                             timeout=10)
    assert response.status_code == 202, response.text
    return response.json()


def delivered(gateway, account, endpoint_id, delivery_id):
    found = [d for d in deliveries(gateway, account, endpoint_id) if d["id"] == delivery_id]
    return found[0] if found and found[0]["status"] in ("delivered", "gave_up") else None


def verify(secret, request):
    return Webhook(secret).verify(request.body, request.headers)


def notify_db(stack):
    return create_engine(stack.settings.database_url_of("notify"), poolclass=NullPool)


def test_retries_until_delivered_with_the_same_webhook_id(stack, gateway):
    account = signup(gateway)
    with running_receiver() as receiver:
        receiver.script[:] = [Reply(500, body=b"down"), Reply(502)]
        endpoint = create_endpoint(gateway, account, receiver.url + "/hooks")
        assert endpoint["secret"].startswith("whsec_") and endpoint["enabled"] is True
        queued = ping(gateway, account, endpoint["id"])
        log = wait_until(lambda: delivered(gateway, account, endpoint["id"], queued["id"]), 30)
        assert log["status"] == "delivered"
        assert [a["status_code"] for a in log["attempts"]] == [500, 502, 200]
        assert all(a["duration_ms"] is not None for a in log["attempts"])
        assert log["attempts"][0]["response_body"] == "down"
        got = receiver.of(queued["event_id"])
        assert len(got) == 3
        assert {r.headers["webhook-id"] for r in got} == {queued["event_id"]}
        for request in got:
            body = verify(endpoint["secret"], request)
            assert body["type"] == "ping" and body["data"]["webhook_id"] == endpoint["id"]
        # The secret is never shown again.
        shown = requests.get(gateway + f"/v1/webhooks/{endpoint['id']}", headers=auth(account),
                             timeout=10).json()
        assert "secret" not in shown and endpoint["secret"] not in json.dumps(shown)


def test_an_agreements_life_as_webhooks(stack, gateway):
    """Every body verifies, carries its resource's status and (for agreements and signers) the
    agreement's sequence; none holds a signing link, a token or document text."""
    account = signup(gateway)
    with running_receiver() as receiver:
        endpoint = create_endpoint(gateway, account, receiver.url)
        document = flows.upload(gateway, account)
        signer = flows.people(1)
        agreement = flows.create(gateway, account, document["id"], signer)
        flows.act(gateway, account, agreement["id"], "send")
        link = flows.invitation_link(stack, signer[0]["email"])
        assert flows.sign(link, signer[0]["name"]).status_code == 200

        def types():
            return [json.loads(r.body)["type"] for r in receiver.requests()]

        wait_until(lambda: {"agreement.completed", "receipt.issued"} <= set(types()), 60)
        bodies = [verify(endpoint["secret"], r) for r in receiver.requests()]
        by_type = {b["type"]: b["data"] for b in bodies}
        assert {"document.uploaded", "agreement.sent", "signer.viewed", "signer.signed",
                "agreement.completed", "receipt.issued"} <= set(by_type)
        assert by_type["document.uploaded"]["id"] == document["id"]
        assert by_type["agreement.completed"]["id"] == agreement["id"]
        assert by_type["agreement.completed"]["status"] == "completed"
        assert by_type["signer.signed"]["status"] == "signed"
        assert by_type["receipt.issued"]["agreement_id"] == agreement["id"]
        sequences = [by_type[t]["sequence"] for t in ("agreement.sent", "signer.viewed",
                                                      "signer.signed", "agreement.completed")]
        assert all(isinstance(s, int) for s in sequences) and sequences == sorted(set(sequences))
        token = link.rstrip("/").rsplit("/", 1)[-1]
        for request in receiver.requests():
            raw = request.body.decode()
            assert token not in raw and "/s/" not in raw and link not in raw
            assert "png_base64" not in raw and "sealed" not in raw


def test_rotation_signs_with_both_secrets_during_the_overlap_only(stack, gateway):
    account = signup(gateway)
    with running_receiver() as receiver:
        endpoint = create_endpoint(gateway, account, receiver.url)
        rotated = requests.post(gateway + f"/v1/webhooks/{endpoint['id']}/rotate-secret",
                                headers=auth(account), timeout=10)
        assert rotated.status_code == 200, rotated.text
        old, new = endpoint["secret"], rotated.json()["secret"]
        assert new.startswith("whsec_") and new != old
        during = ping(gateway, account, endpoint["id"])
        wait_until(lambda: receiver.of(during["event_id"]), 20)
        request = receiver.of(during["event_id"])[0]
        assert len(request.headers["webhook-signature"].split(" ")) == 2
        verify(old, request)
        verify(new, request)
        # The overlap's end, as 24 hours later: the clock the endpoint keeps is moved back.
        with notify_db(stack).begin() as db:
            db.execute(text("UPDATE webhook_endpoints SET previous_secret_expires_at = now() "
                            "- interval '1 second' WHERE id = :id"), {"id": endpoint["id"]})
        after = ping(gateway, account, endpoint["id"])
        wait_until(lambda: receiver.of(after["event_id"]), 20)
        request = receiver.of(after["event_id"])[0]
        assert len(request.headers["webhook-signature"].split(" ")) == 1
        verify(new, request)
        with pytest.raises(WebhookVerificationError):
            verify(old, request)


def test_replay_sends_the_same_webhook_id_again(stack, gateway):
    account = signup(gateway)
    with running_receiver() as receiver:
        endpoint = create_endpoint(gateway, account, receiver.url)
        queued = ping(gateway, account, endpoint["id"])
        wait_until(lambda: delivered(gateway, account, endpoint["id"], queued["id"]), 20)
        replay = requests.post(
            gateway + f"/v1/webhooks/{endpoint['id']}/deliveries/{queued['id']}/replay",
            headers=auth(account), timeout=10)
        assert replay.status_code == 202, replay.text
        wait_until(lambda: len(receiver.of(queued["event_id"])) == 2, 20)
        first, second = receiver.of(queued["event_id"])
        assert first.body == second.body
        verify(endpoint["secret"], second)
        log = wait_until(lambda: (d := delivered(gateway, account, endpoint["id"], queued["id"]))
                         and len(d["attempts"]) == 2 and d, 20)
        assert [a["status_code"] for a in log["attempts"]] == [200, 200]
        missing = requests.post(
            gateway + f"/v1/webhooks/{endpoint['id']}/deliveries/whd_nope/replay",
            headers=auth(account), timeout=10)
        assert missing.status_code == 404


@pytest.mark.parametrize("url", [
    "http://10.0.0.1/hook", "https://169.254.169.254/latest/meta-data", "http://[fd00::1]/hook",
    "http://[::ffff:10.0.0.1]/", "https://user:secret@example.com/hook", "ftp://example.com/",
    "not a url"])
def test_urls_that_can_never_be_valid_are_refused_at_creation(stack, gateway, url):
    account = signup(gateway)
    response = requests.post(gateway + "/v1/webhooks", headers=auth(account),
                             json={"url": url, "events": ["*"]}, timeout=10)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "validation_error"


def test_bad_requests_are_problems(stack, gateway):
    account = signup(gateway)
    for body in ({"url": "https://example.com", "events": ["agreement.created"]},
                 {"url": "https://example.com", "events": []},
                 {"url": "https://example.com", "events": ["*"], "extra": 1}):
        response = requests.post(gateway + "/v1/webhooks", headers=auth(account), json=body, timeout=10)
        assert response.status_code == 422, (body, response.text)
    other = signup(gateway)
    endpoint = create_endpoint(gateway, account, "https://example.com/hook")
    for method, suffix in (("GET", ""), ("PATCH", ""), ("DELETE", ""), ("POST", "/test"),
                           ("POST", "/rotate-secret"), ("GET", "/deliveries")):
        response = requests.request(method, gateway + f"/v1/webhooks/{endpoint['id']}{suffix}",
                                    headers=auth(other), json={} if method == "PATCH" else None,
                                    timeout=10)
        assert response.status_code == 404, (method, suffix, response.text)


def test_at_most_twenty_endpoints(stack, gateway):
    account = signup(gateway)
    for _ in range(20):
        create_endpoint(gateway, account, "https://example.com/hook")
    response = requests.post(gateway + "/v1/webhooks", headers=auth(account),
                             json={"url": "https://example.com/hook", "events": ["*"]}, timeout=10)
    assert response.status_code == 409, response.text
    listed = requests.get(gateway + "/v1/webhooks?limit=100", headers=auth(account), timeout=10).json()
    assert len(listed["data"]) == 20 and not listed["has_more"]


def test_a_redirect_is_not_followed(stack, gateway):
    account = signup(gateway)
    with running_receiver() as receiver, running_receiver() as elsewhere:
        receiver.default = Reply(302, {"Location": elsewhere.url + "/stolen"})
        endpoint = create_endpoint(gateway, account, receiver.url)
        queued = ping(gateway, account, endpoint["id"])
        wait_until(lambda: any(a["status_code"] == 302 for d in deliveries(
            gateway, account, endpoint["id"]) for a in d["attempts"]), 20)
        assert elsewhere.requests() == [] and elsewhere.connections == 0
        attempt = deliveries(gateway, account, endpoint["id"])[0]["attempts"][0]
        assert "redirect" in attempt["error"]
        requests.delete(gateway + f"/v1/webhooks/{endpoint['id']}", headers=auth(account), timeout=10)
        assert queued


def test_410_disables_the_endpoint_and_tells_the_owner(stack, gateway):
    account = signup(gateway)
    with running_receiver() as receiver:
        receiver.default = Reply(410)
        endpoint = create_endpoint(gateway, account, receiver.url)
        ping(gateway, account, endpoint["id"])

        def disabled():
            shown = requests.get(gateway + f"/v1/webhooks/{endpoint['id']}", headers=auth(account),
                                 timeout=10).json()
            return not shown["enabled"] and shown

        shown = wait_until(disabled, 20)
        assert "410" in shown["disabled_reason"]
        assert len(receiver.requests()) == 1
        owner = account["user"]["email"] if "user" in account else None
        if owner:
            wait_until(lambda: stack.messages(to=owner), 20)
        # Disabled: new events make no deliveries.
        ping(gateway, account, endpoint["id"])
        assert len(receiver.requests()) == 1


def test_a_worker_killed_during_the_back_off_retries_once(stack, gateway):
    account = signup(gateway)
    with running_receiver() as receiver:
        receiver.script[:] = [Reply(503, {"Retry-After": "4"})]
        endpoint = create_endpoint(gateway, account, receiver.url)
        queued = ping(gateway, account, endpoint["id"])
        wait_until(lambda: receiver.of(queued["event_id"]), 20)
        wait_until(lambda: (d := [x for x in deliveries(gateway, account, endpoint["id"])
                                  if x["id"] == queued["id"]]) and d[0]["status"] == "failed", 20)
        stack.stop("notify-worker", kill=True)  # SIGKILL, during the 4 s Retry-After
        stack.start("notify-worker")
        log = wait_until(lambda: delivered(gateway, account, endpoint["id"], queued["id"]), 60)
        assert [a["status_code"] for a in log["attempts"]] == [503, 200]
        assert len(receiver.of(queued["event_id"])) == 2
        got = receiver.of(queued["event_id"])
        assert got[1].at - got[0].at >= 3.5  # Retry-After was honoured


def test_three_workers_deliver_each_event_to_each_endpoint_once(stack, gateway):
    account = signup(gateway)
    extra = []
    env = {k: v for k, v in stack.env.items()
           if not k.endswith("_AMQP_PASSWORD") or k == "PACTRA_NOTIFY_AMQP_PASSWORD"}
    try:
        for number in range(2):
            log = open(stack.workdir / f"notify-worker-extra{number}.log", "ab")  # noqa: SIM115 - closed with the process
            extra.append((subprocess.Popen(worker_command("notify"), env=env, stdout=log, stderr=log,
                                           start_new_session=True), log))
        wait_until(lambda: all("started" in (stack.workdir / f"notify-worker-extra{n}.log")
                               .read_text(errors="replace").lower() for n in range(2)), 60)
        with running_receiver() as first, running_receiver() as second:
            endpoints = [create_endpoint(gateway, account, r.url, ["document.uploaded"])
                         for r in (first, second)]
            uploaded = [flows.upload(gateway, account)["id"] for _ in range(6)]

            def all_delivered():
                return all(d["status"] == "delivered" and len(d["attempts"]) == 1
                           for e in endpoints for d in deliveries(gateway, account, e["id"])) and all(
                    len(deliveries(gateway, account, e["id"])) == 6 for e in endpoints)

            wait_until(all_delivered, 60)
            for receiver, endpoint in ((first, endpoints[0]), (second, endpoints[1])):
                got = receiver.requests()
                ids = [r.headers["webhook-id"] for r in got]
                assert len(ids) == len(set(ids)) == 6
                assert sorted(json.loads(r.body)["data"]["id"] for r in got) == sorted(uploaded)
                for request in got:
                    verify(endpoint["secret"], request)
    finally:
        for process, log in extra:
            stop_group(process, 20)
            log.close()


def test_schedule_default_is_the_documented_one():
    from pactra_notify.config import NotifySettings

    delays = NotifySettings(webhooks_retry_schedule=NotifySettings.model_fields[
        "webhooks_retry_schedule"].default).webhook_retry_delays()
    assert [timedelta(seconds=d) for d in delays] == [
        timedelta(seconds=5), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=2),
        timedelta(hours=5), timedelta(hours=10), timedelta(hours=14), timedelta(hours=20),
        timedelta(hours=24)]
