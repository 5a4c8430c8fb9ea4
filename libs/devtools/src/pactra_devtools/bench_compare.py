"""``make bench BASE=<commit>``: the same bench on another commit, in the same run, as ratios.

On a noisy shared machine only a ratio measured in one run means anything. The baseline is
built in a git worktree (``.pactra/bench/<sha>``, its own ``.venv`` from its own ``uv.lock``);
its platform is started by its own code: its ``pactra_devtools.stack.Stack`` run in its own
interpreter (``HOST`` below, a subprocess), which hands back the URLs and process ids. The
current driver then measures it exactly as it measures the current tree: the same ``wrk``
runs, the same life cycles, the same open loop, the same CPU accounting from ``/proc``.

Why not run the baseline's own bench module: older benches measure throughput with a Python
client (the flaw this bench corrects) and have no open loop, so their figures are different
measurements, and a ratio between different measurements says nothing. Any commit whose
``Stack`` has ``create``, ``start_all``, ``gateway_url``, ``processes`` and ``close`` (every
commit since the stack exists) can be the baseline. Phases the baseline cannot have (webhooks,
quotas) run on the current tree only.

The figures are also written with ``--json`` (version 1, ``{"meta": ..., "figures": {key:
{value, unit, better, label}}}``), and ``--base-json`` compares with a file written earlier.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

from .processes import stop_group

ROOT = Path(__file__).resolve().parents[4]
MARKER = "PACTRA-BENCH-STACK "

# Runs in the baseline's interpreter, importing the baseline's code; prints what the driver
# needs, then keeps the stack up until the driver closes its stdin.
HOST = r'''
import json, sys
from pactra_devtools import testing
from pactra_devtools.stack import Stack

stack = Stack.create(json.loads(sys.argv[1]))
try:
    stack.start_all()
    public = stack.gateway_url
    print("PACTRA-BENCH-STACK " + json.dumps({
        "public_url": public,
        "gateway_url": getattr(stack, "direct_gateway_url", public),
        "mailboxes": dict(getattr(testing, "MAILBOXES", {})),
        "processes": {name: process.pid for name, process in stack.processes.items()},
        "s3": stack.s3.pid if stack.s3 is not None else None,
        "mailbox": stack.mailbox.pid if getattr(stack, "mailbox", None) is not None else None,
    }), flush=True)
    sys.stdin.read()
finally:
    stack.close()
'''


def figure(value: float, unit: str, better: str, label: str) -> dict:
    """One figure of the machine-readable output: ``better`` is ``higher`` or ``lower``."""
    if better not in ("higher", "lower"):
        raise ValueError(f"better is higher or lower, not {better!r}")
    return {"value": float(value), "unit": unit, "better": better, "label": label}


def save(path: Path, figures: dict[str, dict], meta: dict) -> None:
    path.write_text(json.dumps({"version": 1, "meta": meta, "figures": figures}, indent=1) + "\n")


def load(path: Path) -> tuple[dict, dict[str, dict]]:
    data = json.loads(path.read_text())
    if data.get("version") != 1:
        raise ValueError(f"{path}: not a version 1 bench output")
    return data.get("meta", {}), data["figures"]


def _value(value: float, unit: str) -> str:
    if unit == "x":
        return f"{value:.2f}"
    return f"{value:.1f} {unit}" if abs(value) < 10 else f"{value:.0f} {unit}"


def ratio_lines(new: dict[str, dict], base: dict[str, dict]) -> list[str]:
    """One line per figure: new, base, new/base, and whether that ratio is the better way."""
    width = max((len(f["label"]) for f in new.values()), default=10)
    lines = [f"  {'figure':{width}} {'new':>12} {'base':>12} {'new/base':>9}"]
    for key, now in new.items():
        then = base.get(key)
        if then is None:
            lines.append(f"  {now['label']:{width}} {_value(now['value'], now['unit']):>12} {'-':>12} "
                         f"{'':>9}  (not measured on the baseline)")
            continue
        if then["value"] == 0:
            ratio, verdict = "n/a", ""
        else:
            share = now["value"] / then["value"]
            better = share > 1 if now["better"] == "higher" else share < 1
            ratio = f"{share:.2f}"
            verdict = "" if abs(share - 1) < 0.005 else ("better" if better else "worse")
        lines.append(f"  {now['label']:{width}} {_value(now['value'], now['unit']):>12} "
                     f"{_value(then['value'], then['unit']):>12} {ratio:>9}  {verdict}")
    for key, then in base.items():
        if key not in new:
            lines.append(f"  {then['label']:{width}} {'-':>12} {_value(then['value'], then['unit']):>12}"
                         f" {'':>9}  (baseline only)")
    return lines


# --- the baseline's checkout ---------------------------------------------------------------

def _git(*args: str, cwd: Path = ROOT) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if Path(found).exists():
        return str(Path(found).resolve())  # it runs in the baseline's folder
    if shutil.which(found) is None:
        raise SystemExit("the baseline's .venv needs uv: run `make install` first")
    return found


def prepare(commit: str | None = None, folder: Path | None = None) -> Path:
    """The baseline's checkout with its ``.venv``: ``folder`` as it is, or ``commit`` in a git
    worktree under ``.pactra/bench/`` (made once, reused while it holds that commit)."""
    if folder is None:
        if commit is None:
            raise ValueError("a baseline needs a commit or a folder")
        sha = _git("rev-parse", "--verify", f"{commit}^{{commit}}")
        folder = ROOT / ".pactra" / "bench" / sha[:12]
        if not (folder / ".git").exists():
            folder.parent.mkdir(parents=True, exist_ok=True)
            print(f"baseline: git worktree of {sha[:12]} in {folder}", flush=True)
            _git("worktree", "add", "--detach", str(folder), sha)
        elif _git("rev-parse", "HEAD", cwd=folder) != sha:
            raise SystemExit(f"{folder} holds another commit than {sha[:12]}: remove it "
                             f"(git worktree remove {folder}) and run again")
    folder = folder.resolve()
    if not (folder / ".venv" / "bin" / "python").exists():
        print(f"baseline: uv sync --frozen in {folder}", flush=True)
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
        subprocess.run([_uv(), "sync", "--frozen", "--python", "python3.11"], cwd=folder, env=env, check=True)
    return folder


class BaselineStack:
    """The baseline's platform, started by its own code in its own interpreter; attributes as
    the driver reads them of a :class:`~pactra_devtools.stack.Stack` (URLs, process ids)."""

    def __init__(self, folder: Path, extra_env: dict[str, str]) -> None:
        self.folder = folder
        self.commit = (_git("rev-parse", "--short=12", "HEAD", cwd=folder)
                       if (folder / ".git").exists() else "?")
        # The host's stderr (the baseline's own logging), shown if its stack fails to start.
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        # Run from the baseline's root, with its interpreter: its packages, its Procfile.
        self.host = subprocess.Popen(
            [str(folder / ".venv" / "bin" / "python"), "-c", HOST, json.dumps(extra_env)], cwd=folder,
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True,
            start_new_session=True)
        info = None
        for line in self.host.stdout:
            if line.startswith(MARKER):
                info = json.loads(line[len(MARKER):])
                break
        if info is None:
            self._log.seek(0)
            self.host.wait(30)
            raise RuntimeError(f"the baseline's stack did not start:\n{self._log.read().decode()[-4000:]}")
        self.gateway_url = info["public_url"]
        self.direct_gateway_url = info["gateway_url"]
        self.mailboxes = info["mailboxes"]
        self.processes = {name: SimpleNamespace(pid=pid) for name, pid in info["processes"].items()}
        self.s3 = SimpleNamespace(pid=info["s3"]) if info["s3"] else None
        self.mailbox = SimpleNamespace(pid=info["mailbox"]) if info["mailbox"] else None

    def close(self) -> None:
        # Closing its stdin lets the host close the stack itself (its databases, vhost, users).
        if self.host.stdin is not None:
            self.host.stdin.close()
        try:
            self.host.wait(120)
        except subprocess.TimeoutExpired:
            stop_group(self.host, 10.0, kill=True)
        self._log.close()


def current_commit() -> str:
    """This tree's commit, ``+`` when it has changes beyond it."""
    try:
        sha = _git("rev-parse", "--short=12", "HEAD")
        return sha + ("+" if _git("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def print_ratios(new: dict[str, dict], base: dict[str, dict], commit: str) -> None:
    print(f"\nnew / baseline ({commit}), measured in this run (the machine is shared: only these "
          "ratios, not the absolute figures, carry over)")
    for line in ratio_lines(new, base):
        print(line)
    sys.stdout.flush()
