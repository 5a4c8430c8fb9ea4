"""Running work on untrusted input (PDF parsing, rendering, seal validation) in a child process
that cannot reach the service's secrets, the network or other processes, and cannot exhaust
the machine.

Each call starts a fresh ``python -I -m pactra_platform.sandbox MODULE:FUNCTION`` with an
empty environment, no file descriptors but its stdin/stdout pipes (and stderr on /dev/null),
its own CPU-time, address-space and file-size rlimits, and a wall-clock deadline. Where
bubblewrap (``bwrap``) works it runs inside new user, PID, network, IPC and UTS namespaces,
with a filesystem of the Python install, the code and ``/usr`` only (read-only; a private
``/tmp``), so neither the secrets file, nor another request's files, nor the service's
``/proc/<pid>/environ`` exist for it. Inside, before the first untrusted byte is read, it
installs a seccomp filter (:mod:`pactra_platform.seccomp`) that denies sockets, exec, fork and
the kernel's privileged interfaces. Without bwrap it still has the empty environment, the
rlimits and the filter, tries a network namespace of its own (unprivileged user namespace),
and the parent makes itself non-dumpable so the child cannot read its ``environ``.

The exchange is one request and one answer, each a JSON header line then raw bytes; the
parent never unpickles or evaluates anything the child writes. ``FUNCTION(meta, payload)``
returns ``(meta, payload)``; the child's exit code comes back as ``returncode``.

:func:`protections` probes once which of these hold on this machine, and
:func:`log_protections` says so in one start-up line.
"""

import contextlib
import ctypes
import json
import logging
import os
import resource
import selectors
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import IO

log = logging.getLogger(__name__)

CHUNK = 64 * 1024
MAX_HEADER = 1024 * 1024
# Set by Python's locale coercion and by bwrap's --chdir: the only variables a child has.
HARMLESS_ENV = frozenset({"LC_CTYPE", "PWD"})
_PR_SET_DUMPABLE = 4
_CLONE_NEWUSER = 0x10000000
_CLONE_NEWNET = 0x40000000


@dataclass(frozen=True)
class Limits:
    cpu_seconds: int = 20
    wall_seconds: float = 40.0
    memory_bytes: int = 1024 * 1024 * 1024
    # What the child may answer (and write to any file): a bomb of output stops here.
    output_bytes: int = 64 * 1024 * 1024


class SandboxError(Exception):
    """The child died, or answered something that is not an answer."""


class SandboxTimeout(SandboxError):
    """The child ran past its wall-clock deadline and was killed."""


@dataclass(frozen=True)
class Outcome:
    returncode: int
    meta: dict
    payload: bytes


@dataclass(frozen=True)
class Protections:
    bwrap: bool
    empty_env: bool
    no_fds: bool
    netns: bool
    seccomp: bool
    rlimits: bool

    def describe(self) -> str:
        flags = ("empty_env", "no_fds", "netns", "seccomp", "rlimits")
        listed = " ".join(f"{name}={'on' if getattr(self, name) else 'OFF'}" for name in flags)
        return f"{listed} runner={'bwrap' if self.bwrap else 'plain subprocess'}"


# --- the parent -------------------------------------------------------------------------------


def _python_paths() -> list[str]:
    """What the isolated child interpreter reads: its prefixes and its sys.path, asked of such
    an interpreter itself, so that no working directory or PYTHONPATH entry (which may hold a
    secrets file) is mounted."""
    probe = subprocess.run(
        [sys.executable, "-I", "-c",
         "import json, sys; print(json.dumps([sys.prefix, sys.base_prefix, *sys.path]))"],
        env={}, capture_output=True, timeout=30, check=True)
    paths: list[str] = []
    for entry in json.loads(probe.stdout):
        if entry and os.path.isabs(entry) and os.path.exists(entry):
            real = os.path.realpath(entry)
            for path in (entry, real):
                if path not in paths:
                    paths.append(path)
    # The executable may be a symlink out of the prefix (a venv's bin/python).
    executable = os.path.realpath(sys.executable)
    if executable not in paths:
        paths.append(executable)
    return paths


def _bwrap_prefix(bwrap: str) -> list[str]:
    argv = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",  # noqa: S108 - a private empty tmpfs
            "--chdir", "/"]
    for path in ("/usr", "/bin", "/lib", "/lib64", "/lib32", "/sbin"):
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    # The dynamic loader's cache and the time zone; nothing else of /etc.
    for path in ("/etc/ld.so.cache", "/etc/localtime", "/etc/fonts"):
        argv += ["--ro-bind-try", path, path]
    for path in _python_paths():
        if not any(path == bound or path.startswith(bound.rstrip("/") + "/")
                   for bound in ("/usr", "/lib", "/lib64", "/bin")):
            argv += ["--ro-bind", path, path]
    return argv


class Sandbox:
    """How children are started on this machine: with bwrap when it works (``use_bwrap``
    None: find out), else as plain subprocesses."""

    def __init__(self, use_bwrap: bool | None = None) -> None:
        self._use_bwrap = use_bwrap
        self._prefix: list[str] | None = None
        self._protections: Protections | None = None
        self._lock = threading.Lock()

    def _argv(self, target: str, limits: Limits, bwrap: bool) -> list[str]:
        child = [sys.executable, "-I", "-X", "utf8", "-m", "pactra_platform.sandbox", target,
                 str(limits.cpu_seconds), str(limits.memory_bytes), str(limits.output_bytes)]
        if not bwrap:
            return child
        if self._prefix is None:
            self._prefix = _bwrap_prefix(shutil.which("bwrap") or "bwrap")
        return [*self._prefix, "--", *child]

    def protections(self) -> Protections:
        """Which protections hold here, found by running a probe child (once per process)."""
        with self._lock:
            if self._protections is None:
                self._protections = self._probe()
            return self._protections

    def _probe(self) -> Protections:
        candidates = [self._use_bwrap] if self._use_bwrap is not None else [
            shutil.which("bwrap") is not None, False]
        for bwrap in dict.fromkeys(candidates):
            if not bwrap:
                # The child shares our uid: without a PID namespace it could read our
                # /proc/<pid>/environ unless we are non-dumpable.
                _make_parent_undumpable()
            try:
                outcome = self._start("pactra_platform.sandbox:probe", {}, b"", Limits(
                    cpu_seconds=10, wall_seconds=30), bwrap)
            except (OSError, SandboxError) as error:
                log.warning("sandbox: %s does not work here (%s)",
                            "bwrap" if bwrap else "a plain child", error)
                continue
            seen = outcome.meta
            return Protections(
                bwrap=bwrap,
                empty_env=set(seen.get("env", [])) <= HARMLESS_ENV,
                no_fds=sorted(seen.get("fds", [])) == [0, 1, 2],
                netns=seen.get("interfaces") == ["lo"],
                seccomp=seen.get("seccomp") is True,
                rlimits=seen.get("rlimits") is True)
        raise SandboxError("no sandbox child could be started")

    def run(self, target: str, meta: dict, payload: bytes | IO[bytes] = b"",
            limits: Limits = Limits()) -> Outcome:
        """Run ``target`` ("module:function") on ``meta`` and ``payload`` in a fresh child."""
        return self._start(target, meta, payload, limits, self.protections().bwrap)

    def _start(self, target: str, meta: dict, payload: bytes | IO[bytes], limits: Limits,
               bwrap: bool) -> Outcome:
        deadline = time.monotonic() + limits.wall_seconds
        size = len(payload) if isinstance(payload, bytes) else _size_of(payload)
        header = json.dumps({"meta": meta, "size": size}).encode() + b"\n"
        # An empty environment (not even for bwrap, whose own environ its PID 1 keeps);
        # close_fds leaves only the three pipes/devnull. No preexec_fn: we run in threads.
        child = subprocess.Popen(self._argv(target, limits, bwrap), env={}, close_fds=True,
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.DEVNULL, cwd="/")
        try:
            raw = _exchange(child, header, payload, limits.output_bytes + MAX_HEADER, deadline)
            child.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired as error:
            raise SandboxTimeout(f"{target} ran past {limits.wall_seconds} s") from error
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            for pipe in (child.stdin, child.stdout):
                if pipe is not None and not pipe.closed:
                    pipe.close()
        return _parse(raw, child.returncode, limits)


def _size_of(stream: IO[bytes]) -> int:
    here = stream.tell()
    end = stream.seek(0, os.SEEK_END)
    stream.seek(here)
    return end - here


def _exchange(child: subprocess.Popen, header: bytes, payload: bytes | IO[bytes], limit: int,
              deadline: float) -> bytes:
    """Write the request while reading the answer (either may fill a pipe), within the
    deadline and the output budget."""
    assert child.stdin is not None and child.stdout is not None
    stdin, stdout = child.stdin.fileno(), child.stdout.fileno()
    os.set_blocking(stdin, False)
    pending = bytearray(header)
    source = None if isinstance(payload, bytes) else payload
    if source is None:
        pending += payload
    out = bytearray()
    with selectors.DefaultSelector() as selector:
        selector.register(stdin, selectors.EVENT_WRITE)
        selector.register(stdout, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired("sandbox", 0)
            for key, _ in selector.select(left):
                if key.fd == stdin:
                    if not pending and source is not None:
                        pending += source.read(CHUNK)
                    try:
                        written = os.write(stdin, pending[:CHUNK]) if pending else 0
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:  # the child stopped reading: its answer says why
                        pending.clear()
                        source = None
                        written = 0
                    del pending[:written]
                    if not pending and (source is None or _at_end(source)):
                        selector.unregister(stdin)
                        child.stdin.close()
                else:
                    chunk = os.read(stdout, CHUNK)
                    if not chunk:
                        selector.unregister(stdout)
                        continue
                    out += chunk
                    if len(out) > limit:
                        raise SandboxError("the child's answer is larger than allowed")
    return bytes(out)


def _at_end(source: IO[bytes]) -> bool:
    here = source.tell()
    if source.read(1):
        source.seek(here)
        return False
    return True


def _parse(raw: bytes, returncode: int, limits: Limits) -> Outcome:
    line, newline, rest = raw.partition(b"\n")
    if not newline:
        if returncode < 0:
            raise SandboxError(f"the child was killed by signal {-returncode}")
        return Outcome(returncode, {}, b"")
    try:
        header = json.loads(line)
        meta, size = header["meta"], header["size"]
    except (ValueError, KeyError, TypeError) as error:
        raise SandboxError("the child's answer is malformed") from error
    if not isinstance(meta, dict) or not isinstance(size, int) or size != len(rest) \
            or size > limits.output_bytes:
        raise SandboxError("the child's answer is malformed")
    return Outcome(returncode, meta, rest)


def _make_parent_undumpable() -> None:
    with contextlib.suppress(OSError, AttributeError):  # not Linux: nothing to do
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)


_default = Sandbox()


def default() -> Sandbox:
    return _default


def run(target: str, meta: dict, payload: bytes | IO[bytes] = b"",
        limits: Limits = Limits()) -> Outcome:
    return _default.run(target, meta, payload, limits)


def protections() -> Protections:
    return _default.protections()


def log_protections(service: str) -> None:
    """One start-up line saying which protections the service's sandbox children have."""
    try:
        found = protections()
    except SandboxError as error:
        log.error("sandbox for %s: unavailable (%s); untrusted files will be refused",
                  service, error)
        return
    level = logging.INFO if all((found.netns, found.seccomp, found.empty_env, found.no_fds,
                                 found.rlimits)) else logging.WARNING
    log.log(level, "sandbox for %s: %s", service, found.describe())


# --- the child --------------------------------------------------------------------------------


def probe(meta: dict, payload: bytes) -> tuple[dict, bytes]:
    """What the child can see of its surroundings (the start-up probe and the tests): its
    environment, descriptors, interfaces, filter and limits; and, as payload, every process
    environment and every file named in ``meta["try_files"]`` that it manages to read."""
    from . import seccomp

    interfaces: list[str] = []
    try:
        with open("/proc/net/dev", encoding="ascii") as devices:
            interfaces = sorted(line.split(":")[0].strip() for line in devices if ":" in line)
    except OSError:
        pass
    # Listing opens descriptors of its own; those still open afterwards are the inherited ones.
    listed = os.listdir("/proc/self/fd")
    fds = sorted(int(fd) for fd in listed if os.path.exists(f"/proc/self/fd/{fd}"))
    links = {fd: os.readlink(f"/proc/self/fd/{fd}") for fd in fds}
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    seen = bytearray()
    pids = [name for name in os.listdir("/proc") if name.isdigit()]
    for path in [f"/proc/{pid}/environ" for pid in ("self", str(os.getppid()), *pids)] + \
            list(meta.get("try_files", [])):
        try:
            with open(path, "rb") as source:
                seen += path.encode() + b": " + source.read(1024 * 1024) + b"\n"
        except OSError:
            pass
    return {"env": sorted(os.environ), "fds": fds, "fd_targets": links, "interfaces": interfaces,
            "seccomp": seccomp.active(), "pid": os.getpid(), "ppid": os.getppid(),
            "rlimits": soft not in (resource.RLIM_INFINITY, -1)}, bytes(seen)


def _limit_self(cpu_seconds: int, memory_bytes: int, output_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (output_bytes, output_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _own_netns() -> None:
    """Outside bwrap: a network namespace of our own (no interfaces but a down loopback)
    when unprivileged user namespaces allow it; the seccomp filter denies sockets anyway."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).unshare(_CLONE_NEWUSER | _CLONE_NEWNET)


def _read_exact(stream: IO[bytes], count: int) -> bytes:
    data = bytearray()
    while len(data) < count and (chunk := stream.read(min(CHUNK * 16, count - len(data)))):
        data += chunk
    return bytes(data)


def _child(argv: list[str]) -> int:
    import importlib

    from . import seccomp

    target, cpu, memory, output = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    _limit_self(cpu, memory, output)
    module_name, _, function_name = target.partition(":")
    function = getattr(importlib.import_module(module_name), function_name)
    _own_netns()
    if seccomp.supported():
        seccomp.install()
    # Only now, with every limit in force, the untrusted input.
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    header = json.loads(stdin.readline(MAX_HEADER))
    payload = _read_exact(stdin, int(header["size"]))
    meta, answer = function(header["meta"], payload)
    stdout.write(json.dumps({"meta": meta, "size": len(answer)}).encode() + b"\n")
    stdout.write(answer)
    stdout.flush()
    return int(meta.get("exit", 0)) if isinstance(meta, dict) else 0


def _main() -> None:
    import logging as child_logging
    import warnings

    child_logging.disable(child_logging.CRITICAL)
    warnings.simplefilter("ignore")
    code = _child(sys.argv[1:])
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    _main()
