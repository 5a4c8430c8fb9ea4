"""A PostgreSQL restart under a light load of reads and writes through the gateway costs no
request (issue 13): no 500s; every write either happened once or was refused with a 503
(with Retry-After); once the server is back every request succeeds again.

It restarts the machine's PostgreSQL cluster (``pg_ctlcluster``), which every stack on the
machine shares: once, briefly, and it makes sure the cluster is online when it ends."""

import collections
import shutil
import subprocess
import threading
import time
import uuid

import pytest
import requests

from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, signup, wait_until

from . import flows

CLIENTS = 4


def cluster() -> tuple[str, str] | None:
    """(version, name) of the cluster on port 5432, when pg_ctlcluster manages it."""
    if shutil.which("pg_lsclusters") is None or shutil.which("pg_ctlcluster") is None:
        return None
    listed = subprocess.run(["pg_lsclusters", "--no-header"], capture_output=True, text=True,
                            check=False).stdout
    for line in listed.splitlines():
        version, name, port, *_ = line.split()
        if port == "5432":
            return version, name
    return None


def pg_ctlcluster(action: str, version: str, name: str) -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, name, action],
                   check=True, capture_output=True, timeout=120)


class Load:
    """Clients reading (a list, an agreement) and writing (new agreements, each with a title
    of its own) until stopped; every answer recorded with when it came."""

    def __init__(self, stack: Stack, account: dict, document_id: str, agreement_id: str) -> None:
        self.stack, self.account = stack, account
        self.document_id, self.agreement_id = document_id, agreement_id
        self.answers: list[tuple[float, str, int, str]] = []  # (time, kind, status, title)
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    def client(self, n: int) -> None:
        session = requests.Session()
        headers = auth(self.account)
        turn = 0
        while not self.stopping.is_set():
            turn += 1
            title = ""
            if turn % 3 == 0:
                kind, title = "write", f"restart-{uuid.uuid4().hex}"
                body = {"title": title, "document_id": self.document_id,
                        "signers": [{"name": "Bo", "email": "bo@example.com"}]}
                answer = session.post(self.stack.gateway_url + "/v1/agreements", headers=headers,
                                      timeout=60, json=body)
            elif turn % 3 == 1:
                kind = "list"
                answer = session.get(self.stack.gateway_url + "/v1/agreements?limit=5",
                                     headers=headers, timeout=60)
            else:
                kind = "read"
                answer = session.get(self.stack.gateway_url + f"/v1/agreements/{self.agreement_id}",
                                     headers=headers, timeout=60)
            if answer.status_code == 503:
                assert answer.headers.get("Retry-After"), answer.headers
            with self.lock:
                self.answers.append((time.monotonic(), kind, answer.status_code, title))
            time.sleep(0.05)


def titles(stack: Stack, account: dict) -> list[str]:
    found, cursor = [], None
    while True:
        answer = requests.get(stack.gateway_url + "/v1/agreements", headers=auth(account), timeout=30,
                              params={"limit": 100, **({"starting_after": cursor} if cursor else {})})
        assert answer.status_code == 200, answer.text
        page = answer.json()
        found.extend(a["title"] for a in page["data"])
        if not page["has_more"]:
            return found
        cursor = page["next_cursor"]


def test_a_postgresql_restart_under_load_costs_no_request(stack: Stack) -> None:
    managed = cluster()
    if managed is None:
        pytest.skip("no pg_ctlcluster-managed PostgreSQL on port 5432 to restart")
    account = signup(stack.gateway_url, "Restart Tester")
    document = flows.upload(stack.gateway_url, account)
    agreement = flows.create(stack.gateway_url, account, document["id"], flows.people(1))
    load = Load(stack, account, document["id"], agreement["id"])
    threads = [threading.Thread(target=load.client, args=(n,), daemon=True) for n in range(CLIENTS)]
    try:
        for thread in threads:
            thread.start()
        wait_until(lambda: len(load.answers) >= 20, timeout=60)
        pg_ctlcluster("restart", *managed)
        restarted = time.monotonic()
        # Load goes on until enough requests after the restart all succeeded.
        wait_until(lambda: sum(1 for t, _, status, _ in list(load.answers)
                               if t > restarted + 5 and status < 300) >= 30, timeout=120)
    finally:
        load.stopping.set()
        for thread in threads:
            thread.join(60)
        if cluster() is not None and "online" not in subprocess.run(
                ["pg_lsclusters", "--no-header"], capture_output=True, text=True).stdout:
            pg_ctlcluster("start", *managed)

    statuses = [status for _, _, status, _ in load.answers]
    print("answers during the restart:", collections.Counter(statuses))  # shown with -s
    assert all(status < 500 or status == 503 for status in statuses), sorted(set(statuses))
    assert all(status in (200, 201, 503) for status in statuses), sorted(set(statuses))
    # Every write happened once (201) or, refused with a 503, at most once.
    stored = titles(stack, account)
    for _, kind, status, title in load.answers:
        if kind == "write":
            count = stored.count(title)
            assert count == 1 if status == 201 else count <= 1, (title, status, count)
    assert any(status == 201 for _, kind, status, _ in load.answers if kind == "write")
    # Past the restart's few seconds, nothing fails.
    assert all(status < 300 for t, _, status, _ in load.answers if t > restarted + 5)
