"""`make test-deploy`: the images built with podman from deploy/ (the base from Debian's
packages with mmdebstrap), deploy/compose.yaml run with podman-compose on fresh secrets, and one
whole life cycle through nginx and the gateway (signup, upload, create, send, sign through the
emailed link, the receipt), whose receipt then verifies offline with pactra-verify. Then
everything but the images is removed.

Where podman cannot build or run containers, the test fails and says why: it never skips.
PACTRA_TEST_DEPLOY_PORT (default 18480) and the port after it are nginx's and the mailbox's on
127.0.0.1, away from `make run` (8080, 8025) and the test stacks; PACTRA_TEST_DEPLOY_PROJECT
(default pactra-deploytest) is the Compose project name.
"""

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
import requests

from .podman import ROOT, DeployUnavailable, Podman

T = TypeVar("T")
OWNER, EMAIL = "ada@example.com", "bo@example.com"
SIGN = re.compile(r"http[^\s\"<>]*/s/[A-Za-z0-9_-]+")
CONFIRM = re.compile(r"http[^\s\"<>]*/confirm-email/[A-Za-z0-9_-]+")


def mailed_link(podman: Podman, to: str, pattern: re.Pattern) -> str | None:
    """The first link matching ``pattern`` in the mail the development mailbox holds for ``to``."""
    for message in requests.get(f"{podman.mailbox_url}/api/messages", params={"to": to}, timeout=5).json():
        found = pattern.search(message.get("text") or "")
        if found:
            return found.group(0)
    return None


@pytest.fixture(scope="module")
def deployment() -> Iterator[Podman]:
    port = int(os.environ.get("PACTRA_TEST_DEPLOY_PORT", "18480"))
    podman = Podman(workdir=ROOT / ".pactra" / "deploy-test",
                    project=os.environ.get("PACTRA_TEST_DEPLOY_PROJECT", "pactra-deploytest"),
                    public_port=port, mailbox_port=port + 1,
                    build_network=os.environ.get("PACTRA_TEST_DEPLOY_BUILD_NETWORK", "host"))
    started = time.monotonic()
    try:
        podman.configure()
        podman.build_base()
        podman.probe()
        podman.build_images()
    except DeployUnavailable as exc:
        pytest.fail(f"make test-deploy cannot run on this machine: {exc}", pytrace=False)
    # A run that died before its teardown leaves its project behind: start clean.
    if podman.leftovers():
        podman.down()
    podman.write_env_files()
    try:
        podman.up()
        yield podman
    finally:
        podman.down()
        left = podman.leftovers()
        podman.timings["total"] = round(time.monotonic() - started, 1)
        print("\ntest-deploy timings (s): " + ", ".join(f"{k} {v}" for k, v in podman.timings.items()),
              file=sys.stderr)
        assert not left, f"teardown left {left}"


def wait_for(what: str, probe: Callable[[], T | None], timeout: float, podman: Podman) -> T:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            found = probe()
            if found:
                return found
            last = found
        except requests.RequestException as exc:
            last = exc
        time.sleep(1)
    pytest.fail(f"{what} not within {timeout:.0f}s (last: {last!r})\n{podman.logs_of_all()}", pytrace=False)


def test_a_whole_life_cycle_through_nginx_verifies(deployment: Podman, tmp_path: Path) -> None:
    base, started = deployment.public_url, time.monotonic()
    wait_for("the gateway ready through nginx",
             lambda: requests.get(f"{base}/readyz", timeout=5).status_code == 200 or None, 300, deployment)
    for name in deployment.containers():
        if "-migrate" in name:
            assert deployment.exit_code(name) == ("exited", 0), deployment.logs_of_all()
    deployment.timings["ready"] = round(time.monotonic() - started, 1)
    started = time.monotonic()

    http = requests.Session()
    signup = http.post(f"{base}/v1/signup", timeout=30, json={
        "name": "Ada", "email": OWNER, "workspace_name": "Analytical"})
    assert signup.status_code == 201, signup.text
    http.headers["Authorization"] = f"Bearer {signup.json()['api_key']['key']}"
    # Until the owner confirms their address, agreements may go only to themselves: follow the
    # confirmation link the signup emailed.
    token = wait_for("the confirmation email", lambda: mailed_link(deployment, OWNER, CONFIRM), 120,
                     deployment).rsplit("/", 1)[1]
    confirmed = requests.post(f"{base}/v1/account/confirm-email", json={"token": token}, timeout=30)
    assert confirmed.status_code == 200, confirmed.text
    pdf = (ROOT / "examples" / "nda.pdf").read_bytes()
    upload = http.post(f"{base}/v1/documents", params={"filename": "nda.pdf"}, data=pdf,
                       headers={"Content-Type": "application/pdf"}, timeout=60)
    assert upload.status_code == 201, upload.text
    created = http.post(f"{base}/v1/agreements", timeout=30, json={
        "title": "NDA", "document_id": upload.json()["id"],
        "signers": [{"name": "Bo", "email": EMAIL}],
        "fields": [{"signer_email": EMAIL, "type": "signature", "page": 2,
                    "x": 72, "y": 650, "width": 180, "height": 40}]})
    assert created.status_code == 201, created.text
    agreement = created.json()["id"]
    sent = http.post(f"{base}/v1/agreements/{agreement}/send", timeout=30)
    assert sent.status_code in (200, 202), sent.text

    link = wait_for("the invitation in the mailbox", lambda: mailed_link(deployment, EMAIL, SIGN),
                    120, deployment)
    assert link.startswith(f"{base}/s/"), link
    signed = requests.post(f"{link}/sign", timeout=30, json={
        "consent": True, "signature": {"type": "typed", "text": "Bo"}})
    assert signed.status_code == 200, signed.text

    def receipt() -> requests.Response | None:
        answer = http.get(f"{base}/v1/agreements/{agreement}/receipt",
                          headers={"Prefer": "wait=20"}, timeout=40)
        return answer if answer.status_code == 200 else None

    evidence = {"receipt.json": wait_for("the receipt", receipt, 180, deployment).content}
    for name, path in (("jwks.json", "/v1/receipts/keys"), ("chain.pem", "/v1/receipts/certificates"),
                       ("audit.json", f"/v1/agreements/{agreement}/audit"),
                       ("signed.pdf", f"/v1/agreements/{agreement}/signed.pdf")):
        answer = http.get(base + path, timeout=60)
        assert answer.status_code == 200, f"{path}: {answer.status_code} {answer.text[:300]}"
        evidence[name] = answer.content
    for name, content in evidence.items():
        (tmp_path / name).write_bytes(content)
    deployment.timings["life cycle"] = round(time.monotonic() - started, 1)

    verify = subprocess.run(
        [str(Path(sys.executable).parent / "pactra-verify"),
         "--receipt", str(tmp_path / "receipt.json"), "--jwks", str(tmp_path / "jwks.json"),
         "--audit", str(tmp_path / "audit.json"), "--document", str(ROOT / "examples" / "nda.pdf"),
         "--signed-pdf", str(tmp_path / "signed.pdf"), "--chain", str(tmp_path / "chain.pem")],
        capture_output=True, text=True, timeout=120, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert "VALID" in verify.stdout and "NOT VERIFIED" not in verify.stdout, verify.stdout
