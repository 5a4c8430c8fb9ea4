"""The OpenAPI document as integrators use it, against the running test stack: Schemathesis
calls every operation with every check (issue 12), and `/docs` renders the document in a real
browser (Debian's Chromium driven by Playwright)."""

import subprocess
import sys
from pathlib import Path

import requests

from pactra_devtools.testing import signup
from pactra_gateway.entrypoints.routing import OPERATIONS

# Fixed, so that a failure is reproduced by running the same command again.
SEED = 20261207
# Bounded so the run stays within about two minutes on two cores.
MAX_EXAMPLES = 8


def test_docs_lists_every_operation_in_the_browser(gateway, browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.goto(gateway + "/docs")
    operations = page.locator(".opblock")
    operations.first.wait_for(timeout=30_000)
    assert operations.count() == len(OPERATIONS)
    assert "Unable to render this definition" not in page.content()
    assert page.locator(".opblock-summary-path", has_text="/v1/agreements/{id}/send").count() == 1
    assert errors == []
    page.close()


def _config(document: dict) -> str:
    """Schemathesis takes a request the schema allows as one to accept (2xx). Some the document
    says may be refused for what a schema cannot express: 422 for a cursor or document id that
    is not this workspace's or a reused Idempotency-Key, 415 for an upload that is not a PDF,
    413 for one too large. Where it documents such a refusal, and only there, it is accepted."""
    sections = []
    for operations in document["paths"].values():
        for operation in operations.values():
            media = set(operation.get("requestBody", {}).get("content", {})) - {"application/json"}
            refusals = [status for status in (FILE_REFUSALS if media else []) + ["422"]
                        if status in operation["responses"]]
            if refusals:
                expected = ", ".join(f'"{status}"' for status in ACCEPTED + refusals)
                sections.append(f'[[operations]]\ninclude-operation-id = "{operation["operationId"]}"\n'
                                f"checks.positive_data_acceptance.expected-statuses = [{expected}]\n")
    return "\n".join(sections)


# What Schemathesis accepts of a valid request anyway; and, for a file the schema can only call
# binary, the refusals of its content (not a PDF, too large): never for a JSON body.
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "429"]
FILE_REFUSALS = ["413", "415"]


def test_schemathesis_finds_no_failure(stack, gateway, tmp_path):
    account = signup(gateway)
    schemathesis = Path(sys.executable).with_name("schemathesis")
    config = tmp_path / "schemathesis.toml"
    config.write_text(_config(requests.get(f"{gateway}/v1/openapi.json", timeout=30).json()))
    result = subprocess.run(
        [str(schemathesis), "--config-file", str(config), "run", f"{gateway}/v1/openapi.json",
         "--checks", "all",
         # One worker: Hypothesis parses sources with `ast` in each, and CPython 3.11's parser
         # is not safe across threads ("AST constructor recursion depth mismatch").
         "--seed", str(SEED), "--max-examples", str(MAX_EXAMPLES), "--workers", "1",
         "--request-timeout", "30", "--no-shrink",
         # A real key, so that the operations behind authentication are exercised too.
         "--header", f"Authorization: Bearer {account['api_key']['key']}",
         "--report", "junit", "--report-dir", str(tmp_path)],
        # Run in tmp_path: it keeps its example database in ./.schemathesis, not in the clone.
        capture_output=True, text=True, timeout=600, check=False, cwd=tmp_path,
        env={"NO_COLOR": "1", "PATH": str(schemathesis.parent), "HOME": str(tmp_path)})
    # The failures, not the warnings and summary after them, are what a reader needs.
    failures = result.stdout.partition("=== FAILURES ===")[2].partition("=== WARNINGS ===")[0]
    assert result.returncode == 0, (failures or result.stdout)[:30_000] + result.stderr[-5_000:]
