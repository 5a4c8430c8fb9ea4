"""Every worker as three competing replicas, one of each kind killed with -9 mid-run (issue 13):
every life cycle still completes, each receipt verifies with pactra-verify, and nothing is
produced twice: no audit entry, no receipt, no email (counted by distinct Message-ID, the
delivery's stable identity, per recipient)."""

import collections
import contextlib
import io
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from pactra_devtools import process_table
from pactra_devtools.stack import Stack
from pactra_devtools.testing import auth, signup
from pactra_verify.cli import main as pactra_verify

from . import flows

REPLICAS = 3
LIFE_CYCLES = 40
CLIENTS = 8
# Killed once this many life cycles have a signature: some are done, others mid-flight.
KILL_AFTER = 12


@pytest.fixture(scope="module")
def replicated() -> Stack:
    stack = Stack.create()
    try:
        stack.start_all(replicas=REPLICAS)
        yield stack
    finally:
        stack.close()


def life_cycle(stack: Stack, account: dict, signed: threading.Semaphore) -> tuple[str, str]:
    """Upload, create, send, sign (from the mailed link), wait for the receipt: (agreement
    id, the signer's address)."""
    gateway = stack.gateway_url
    document = flows.upload(gateway, account)
    signer = flows.people(1)
    agreement = flows.create(gateway, account, document["id"], signer)
    flows.act(gateway, account, agreement["id"], "send")
    link = flows.invitation_link(stack, signer[0]["email"], timeout=120)
    answer = flows.sign(link, signer[0]["name"])
    assert answer.status_code == 200, answer.text
    signed.release()
    flows.wait_for_evidence(gateway, account, agreement["id"], timeout=150)
    return agreement["id"], signer[0]["email"]


def verify(stack: Stack, account: dict, agreement_id: str, jwks: dict, folder: Path) -> None:
    """pactra-verify (its command, run in this process) on the receipt, its keys and trail."""
    files = {}
    for name in ("receipt", "audit"):
        answer = requests.get(f"{stack.gateway_url}/v1/agreements/{agreement_id}/{name}",
                              headers=auth(account), timeout=30)
        assert answer.status_code == 200, answer.text
        files[name] = folder / f"{agreement_id}.{name}.json"
        files[name].write_text(answer.text)
    keys = folder / "jwks.json"
    keys.write_text(json.dumps(jwks))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = pactra_verify(["--receipt", str(files["receipt"]), "--jwks", str(keys),
                              "--audit", str(files["audit"])])
    assert code == 0 and out.getvalue().strip().endswith("VALID"), out.getvalue()
    # One entry per event: a redelivered event appended twice would repeat its facts.
    entries = json.loads(files["audit"].read_text())["entries"]
    facts = [json.dumps([e["type"], e["at"], e["actor"], e["data"]], sort_keys=True) for e in entries]
    assert len(facts) == len(set(facts)), f"{agreement_id}: an event is in its trail twice"
    assert [e["seq"] for e in entries] == list(range(len(entries)))


def test_forty_life_cycles_with_three_replicas_of_every_worker_and_kills(replicated: Stack,
                                                                        tmp_path: Path) -> None:
    stack = replicated
    workers = [p.name for p in process_table.processes() if p.role != "api"]
    accounts = [signup(stack.gateway_url, f"Sender {n}") for n in range(CLIENTS)]
    signed = threading.Semaphore(0)

    with ThreadPoolExecutor(CLIENTS) as pool:
        futures = [pool.submit(life_cycle, stack, accounts[n % CLIENTS], signed)
                   for n in range(LIFE_CYCLES)]
        for _ in range(KILL_AFTER):
            assert signed.acquire(timeout=240), "life cycles stalled before the kills"
        for name in workers:  # replica 2 of each kind, mid-run, without a chance to clean up
            stack.stop(f"{name}#2", kill=True)
        results = [future.result() for future in futures]

    # Each receipt verifies, against the published keys, with its trail.
    jwks = requests.get(stack.gateway_url + "/v1/receipts/keys", timeout=30).json()
    owner = {}
    for n, (agreement_id, _) in enumerate(results):
        owner[agreement_id] = accounts[n % CLIENTS]
        verify(stack, owner[agreement_id], agreement_id, jwks, tmp_path)

    # One receipt per agreement: one issued row, one receipt.issued event.
    engine = create_engine(stack.settings.database_url_of("receipts"), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            issued = collections.Counter(conn.execute(text(
                "SELECT body->'data'->>'agreement_id' FROM outbox WHERE type = 'receipt.issued'"
            )).scalars())
            rows = conn.execute(text("SELECT count(*), count(DISTINCT agreement_id) "
                                     "FROM receipts_issued")).one()
    finally:
        engine.dispose()
    assert {a: issued[a] for a in owner} == dict.fromkeys(owner, 1)
    assert rows[0] == rows[1] >= LIFE_CYCLES

    # Each email once per recipient: the signer's invitation and completion, and the sender's
    # completion of each of its agreements. An email sent again after a kill carries the same
    # Message-ID (mail clients show one); a second delivery would carry another.
    for agreement_id, signer in results:
        ids = {m["message_id"] for m in stack.messages(to=signer)}
        assert len(ids) == 2, (agreement_id, signer, stack.messages(to=signer))
    per_sender = collections.Counter(account["user"]["email"] for account in owner.values())
    for email, agreements in per_sender.items():
        completions = {m["message_id"] for m in stack.messages(to=email)
                       if m["subject"].endswith("is complete")}
        assert len(completions) == agreements, (email, agreements, len(completions))
