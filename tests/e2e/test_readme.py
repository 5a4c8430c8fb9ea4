"""The README's "Try it", extracted from the README itself and run as written against the
test stack (only its host names and ports differ), so that the README cannot drift again."""

import re
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

from pactra_devtools.stack import Stack

ROOT = Path(__file__).resolve().parents[2]


def try_it_blocks(readme: str) -> list[str]:
    """The ```sh blocks between "## Try it" and the next section."""
    section = readme.split("\n## Try it", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, flags=re.DOTALL)


def test_the_readme_try_it_runs_as_written(stack: Stack) -> None:
    blocks = try_it_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 2, "Try it lost its shell blocks"
    script = "\n".join(blocks)
    gateway = urlsplit(stack.gateway_url).netloc
    mailbox = urlsplit(stack.mailbox_url).netloc
    assert "localhost:8080" in script and "localhost:8025" in script
    script = script.replace("localhost:8080", gateway).replace("localhost:8025", mailbox)
    ran = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=240)
    assert ran.returncode == 0, ran.stdout[-3000:] + ran.stderr[-3000:]
    # pactra-verify's last word; the evidence went to a temporary folder, not the repository.
    assert ran.stdout.strip().splitlines()[-1] == "VALID", ran.stdout[-3000:]
    assert not (ROOT / "receipt.json").exists() and not (ROOT / "signed.pdf").exists()
