"""A database made under one master key is refused, with what to do, by a process holding
another: the migrations, an API and a worker each stop at once instead of running with
evidence nothing can decrypt (a second checkout's new .pactra/secrets.env)."""

import secrets
import subprocess
import time

import requests

from pactra_devtools.stack import BIN, Stack

SENTENCE = "was created with a different master key"


def _wait_exit(process: subprocess.Popen, timeout: float = 60.0) -> int:
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        assert time.monotonic() < deadline, "the process did not refuse to start"
        time.sleep(0.1)
    return process.returncode


def test_every_process_refuses_a_database_made_under_another_master_key(stack: Stack) -> None:
    stack.env["PACTRA_MASTER_KEY"] = secrets.token_urlsafe(48)  # another checkout's key

    migrate = subprocess.run([str(BIN / "pactra-migrate"), "notify"], env=stack.env,
                             capture_output=True, text=True, timeout=120)
    assert migrate.returncode != 0
    assert SENTENCE in migrate.stderr and "make reset" in migrate.stderr
    assert ".pactra/secrets.env" in migrate.stderr

    for name in ("notify", "notify-worker"):
        process = stack.start(name)
        assert _wait_exit(process) != 0, name
        log = stack.log(name)
        assert SENTENCE in log and "make reset" in log, name


def test_the_right_key_starts_and_migrates_again(stack: Stack) -> None:
    migrate = subprocess.run([str(BIN / "pactra-migrate"), "notify"], env=stack.env,
                             capture_output=True, text=True, timeout=120)
    assert migrate.returncode == 0, migrate.stderr
    stack.start("notify")
    ready = stack.settings.url_of("notify") + "/readyz"
    # Up, but not ready until its worker consumes its queues.
    deadline = time.monotonic() + 60
    while True:
        try:
            answer = requests.get(ready, timeout=30)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert answer.status_code == 503
    assert answer.json()["checks"]["database"] == "ok"
    assert answer.json()["checks"]["broker"].startswith("failing")
    stack.start("notify-worker")
    stack.wait_ready("notify")
