"""Stopping the processes the tests and the stack start, each in its own process group."""

import os
import signal
import subprocess


def stop_group(process: subprocess.Popen, timeout: float = 30.0, *, kill: bool = False) -> None:
    """SIGTERM (or SIGKILL) the process's group, then SIGKILL it if it outlives ``timeout``."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGKILL if kill else signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
