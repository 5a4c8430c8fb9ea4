"""A workspace that chose the LLM engine, through the gateway, with the real documents
service, broker and database, and a local server speaking the OpenAI HTTP API: the answer is
validated and anchored in the document's text, its tokens are counted, and a spent monthly
cap refuses further analyses with 402 ``quota_exceeded`` before any text leaves."""

import threading
from collections.abc import Iterator

import pytest
import requests
from fake_openai import FakeOpenAI

from pactra_devtools import cuad
from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, signup, wait_until

from .ai_platform import ai_rows, contract_pdf, running_platform, upload

TOKENS_PER_ANSWER = 700
MONTHLY_TOKENS = 1000  # one answer fits; after two the cap is spent


@pytest.fixture(scope="module")
def llm() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.tokens_per_answer = TOKENS_PER_ANSWER
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(scope="module")
def platform(llm: FakeOpenAI) -> Iterator[Stack]:
    with running_platform({"PACTRA_AI_BASE_URL": llm.base_url, "PACTRA_AI_API_KEY": "test-key",
                           "PACTRA_AI_MODEL": "test/contract-model",
                           "PACTRA_AI_MONTHLY_TOKENS": str(MONTHLY_TOKENS),
                           "PACTRA_AI_CHUNK_CHARS": "200000"}) as stack:
        yield stack


def quoted_governing_law(body: dict) -> dict:
    """What a model would answer: the contract's governing-law sentence, quoted."""
    text = body["messages"][-1]["content"]
    quotes = [s.strip() for s in text.replace("\n", " ").split(". ") if "governed by" in s][:1]
    return {"summary": {"parties": [], "purpose": "A contract.", "key_dates": [], "money": [],
                        "obligations": [], "term_and_termination": "", "risks": []},
            "clauses": [{"type": "Governing Law", "text": q, "confidence": 0.9} for q in quotes]
            + [{"type": "Parties", "text": "Nobody named in this contract", "confidence": 0.9}]}


def test_llm_analysis_is_anchored_counted_and_capped(platform: Stack, llm: FakeOpenAI) -> None:
    url = platform.gateway_url
    account = signup(url)
    headers = auth(account)
    workspace_id = account["workspace"]["id"]
    chosen = requests.patch(url + "/v1/workspace", json={"ai_engine": "llm"}, headers=headers, timeout=30)
    assert chosen.status_code == 200, chosen.text
    wait_until(lambda: ai_rows(platform, "SELECT ai_engine FROM workspace_ai_settings WHERE "
                               "workspace_id = :w", w=workspace_id) == [("llm",)])
    llm.default = quoted_governing_law
    others = [c.pdf_path for c in cuad.load("test") if c.pdf_path and c.pdf_path != contract_pdf()][:2]
    documents = [upload(url, headers, path) for path in [contract_pdf(), contract_pdf(), *others]]

    def analyse(document: dict) -> dict:
        path = f"{url}/v1/documents/{document['id']}/analysis"
        started = requests.post(path, headers=headers, timeout=30)
        assert started.status_code in (200, 202), started.text
        return wait_until(lambda: (r := requests.get(path, headers=headers, timeout=30).json())
                          ["status"] in ("ready", "failed") and r, timeout=60)

    first = analyse(documents[0])
    assert first["status"] == "ready", first
    assert first["engine"] == "llm" and first["model"] == "test/contract-model"
    assert first["advisory"] is True
    text = requests.get(f"{url}/v1/documents/{documents[0]['id']}/text", headers=headers,
                        timeout=30).content.decode("utf-8")
    # The quote that is in the text is kept, anchored; the made-up one is dropped.
    assert [c["type"] for c in first["clauses"]] == ["Governing Law"]
    for clause in first["clauses"]:
        assert text[clause["start"]:clause["end"]] == clause["text"]
    assert llm.requests and llm.requests[-1]["model"] == "test/contract-model"

    # The same bytes again are answered from the cache: no second call to the provider.
    calls = len(llm.requests)
    assert analyse(documents[1])["status"] == "ready"
    assert len(llm.requests) == calls
    used = ai_rows(platform, "SELECT coalesce(sum(tokens), 0) FROM token_usage WHERE workspace_id = :w",
                   w=workspace_id)
    assert used == [(TOKENS_PER_ANSWER,)]

    # Another document: within the cap when asked, so it runs, and spends the cap.
    assert analyse(documents[2])["status"] == "ready"
    calls = len(llm.requests)
    refused = requests.post(f"{url}/v1/documents/{documents[3]['id']}/analysis", headers=headers,
                            timeout=30)
    assert refused.status_code == 402, refused.text
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "quota_exceeded"
    assert len(llm.requests) == calls  # no text left for the refused one
    assert ai_rows(platform, "SELECT id FROM analyses WHERE document_id = :d",
                   d=documents[3]["id"]) == []


def test_switching_away_from_the_llm_stops_what_is_pending(platform: Stack, llm: FakeOpenAI) -> None:
    url = platform.gateway_url
    account = signup(url)
    headers = auth(account)
    chosen = requests.patch(url + "/v1/workspace", json={"ai_engine": "llm"}, headers=headers,
                            timeout=30)
    assert chosen.status_code == 200, chosen.text
    llm.default = quoted_governing_law
    paths = [c.pdf_path for c in cuad.load("test") if c.pdf_path][:2]
    first, second = (upload(url, headers, path) for path in paths)
    gate = threading.Event()
    llm.script.append(("gate", gate))
    calls = len(llm.requests)
    try:
        # The first analysis holds the runner in a call to the provider; the second waits.
        started = requests.post(f"{url}/v1/documents/{first['id']}/analysis", headers=headers,
                                timeout=30)
        assert started.status_code == 202, started.text
        wait_until(lambda: len(llm.requests) == calls + 1)
        second_path = f"{url}/v1/documents/{second['id']}/analysis"
        pending = requests.post(second_path, headers=headers, timeout=30)
        assert pending.status_code == 202 and pending.json()["engine"] == "llm", pending.text
        switched = requests.patch(url + "/v1/workspace", json={"ai_engine": "offline"},
                                  headers=headers, timeout=30)
        assert switched.status_code == 200, switched.text
        sent_before_the_switch = len(llm.requests)
    finally:
        gate.set()
    stopped = wait_until(lambda: (r := requests.get(second_path, headers=headers, timeout=30)
                                  .json())["status"] != "pending" and r, timeout=60)
    assert stopped["status"] == "failed" and stopped["error"] == "engine_changed", stopped
    assert len(llm.requests) == sent_before_the_switch  # nothing left after the PATCH answered
