"""The sandbox child: nothing of the service's secrets, descriptors or network reaches it;
its limits hold; and the start-up line says what is in force."""

import logging
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pactra_platform import sandbox, seccomp

SECRETS = {
    "PACTRA_MASTER_KEY": "master-key-that-must-not-leak-7f3a",
    "PACTRA_INTERNAL_SECRET": "internal-secret-that-must-not-leak-91c2",
    "PACTRA_S3_ACCESS_KEY": "s3-access-that-must-not-leak-55aa",
    "PACTRA_S3_SECRET_KEY": "s3-secret-that-must-not-leak-0b0b",
}
RUNNERS = [pytest.param(False, id="plain"), pytest.param(
    True, id="bwrap", marks=pytest.mark.skipif(shutil.which("bwrap") is None,
                                               reason="bubblewrap is not installed"))]


PARENT = """
import json, sys
from pactra_platform import sandbox
box = sandbox.Sandbox(use_bwrap=sys.argv[1] == "bwrap")
outcome = box.run("pactra_platform.sandbox:probe", {"try_files": sys.argv[2:]})
print(json.dumps({"returncode": outcome.returncode, "meta": outcome.meta,
                  "payload": outcome.payload.decode("utf-8", "replace")}))
"""


@pytest.mark.parametrize("use_bwrap", RUNNERS)
def test_the_child_sees_none_of_the_parents_secrets(use_bwrap: bool, tmp_path: Path) -> None:
    """A service process started with the secrets in its environment (so they are in its
    /proc/<pid>/environ, not only in os.environ) runs the probe child, which lists its
    environment, reads /proc/self/environ, its parent's and every other process's environ it
    can open, and (under bwrap) a secrets file: none of the secrets comes back."""
    import json
    import os

    secrets_file = tmp_path / "secrets.env"
    secrets_file.write_text("".join(f"{k}={v}\n" for k, v in SECRETS.items()))
    tries = [str(secrets_file)] if use_bwrap else []
    done = subprocess.run(
        [sys.executable, "-c", PARENT, "bwrap" if use_bwrap else "plain", *tries],
        env={**os.environ, **SECRETS}, capture_output=True, text=True, timeout=120, check=True)
    answer = json.loads(done.stdout)
    assert answer["returncode"] == 0, answer
    assert set(answer["meta"]["env"]) <= sandbox.HARMLESS_ENV, answer["meta"]["env"]
    # It did read environ files (its own, at least: empty), and the parent's was refused.
    assert "/proc/self/environ: " in answer["payload"]
    assert f"/proc/{answer['meta']['ppid']}/environ: PACTRA" not in answer["payload"]
    for value in SECRETS.values():
        assert value not in done.stdout
    assert str(secrets_file) not in answer["payload"]


@pytest.mark.parametrize("use_bwrap", RUNNERS)
def test_protections_in_force(use_bwrap: bool) -> None:
    found = sandbox.Sandbox(use_bwrap=use_bwrap).protections()
    assert found.bwrap is use_bwrap
    assert found.empty_env and found.no_fds and found.rlimits
    assert found.seccomp is seccomp.supported()
    if use_bwrap:
        assert found.netns


@pytest.mark.parametrize("use_bwrap", RUNNERS)
def test_only_the_pipes_are_inherited(use_bwrap: bool, tmp_path: Path) -> None:
    with open(tmp_path / "held.txt", "w") as held:  # an open descriptor of the parent
        outcome = sandbox.Sandbox(use_bwrap=use_bwrap).run("pactra_platform.sandbox:probe", {})
        assert held.fileno() > 2
    assert outcome.meta["fds"] == [0, 1, 2]
    assert outcome.meta["fd_targets"]["2"] == "/dev/null"


def test_a_child_past_its_deadline_is_killed() -> None:
    with pytest.raises(sandbox.SandboxTimeout):
        sandbox.run("pactra_platform.sandbox:probe", {}, b"", sandbox.Limits(wall_seconds=0.01))


def test_an_answer_over_the_output_limit_is_refused() -> None:
    with pytest.raises(sandbox.SandboxError):
        sandbox.run("pactra_platform.sandbox:probe", {}, b"", sandbox.Limits(output_bytes=8))


def test_a_streamed_payload_reaches_the_child_whole() -> None:
    """A payload bigger than a pipe's buffer, given as a file, arrives (the child reads it
    whole before answering, so a stalled exchange would time out instead)."""
    import io

    data = io.BytesIO(b"x" * (3 * 1024 * 1024))
    outcome = sandbox.run("pactra_platform.sandbox:probe", {}, data)
    assert outcome.returncode == 0 and outcome.meta["seccomp"] is seccomp.supported()


@pytest.mark.skipif(not seccomp.supported(), reason="no seccomp filter for this machine")
def test_the_filter_denies_sockets_exec_and_fork_but_not_threads() -> None:
    script = """
import os, socket, threading
from pactra_platform import seccomp
seccomp.install()
results = []
for name, call in (("socket", socket.socket), ("fork", os.fork),
                   ("exec", lambda: os.execv("/bin/true", ["true"]))):
    try:
        call()
        results.append(name + "=allowed")
    except PermissionError:
        results.append(name + "=denied")
thread = threading.Thread(target=lambda: results.append("thread=ran"))
thread.start()
thread.join()
print(" ".join(results))
"""
    done = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True, text=True,
                          timeout=60, check=True)
    assert done.stdout.split() == ["socket=denied", "fork=denied", "exec=denied", "thread=ran"]


def test_one_start_up_line_says_what_is_in_force(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="pactra_platform.sandbox"):
        sandbox.log_protections("documents")
    lines = [r.getMessage() for r in caplog.records if r.name == "pactra_platform.sandbox"]
    assert len(lines) == 1
    for protection in ("empty_env=", "no_fds=", "netns=", "seccomp=", "rlimits="):
        assert protection in lines[0]
