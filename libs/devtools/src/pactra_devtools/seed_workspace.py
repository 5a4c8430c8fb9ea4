"""A big workspace for ``make bench``'s rights phase (bench_rights), seeded in minutes rather
than through thousands of life cycles, yet written by each service's own code.

- Documents: uploaded through the public API (``POST /v1/documents``), each a valid PDF of
  ``document_mib`` (one page and an incompressible attachment, as bench's ``large_pdf``)
  until ``total_bytes`` are stored: the documents service checks, encrypts (the workspace's
  own data key) and stores them as for any client, and records the storage used.
- Agreements: made by the signing service's own use case (``service_layer.agreements.create``)
  on its own unit of work against the stack's signing database, with the document described
  by the documents service (``Peers.document``) and the workspace's sender, as its
  ``POST /v1/agreements`` view does, minus the HTTP. Each has two signers, one signature and
  one text field per signer, a message and metadata. Their ``agreement.created`` events leave
  through signing's outbox as any others: documents records the agreement's use of its
  document, receipts starts each audit trail, notify records the parties.
- A share of them (``sent_share``) is then sent through the public API
  (``POST /v1/agreements/{id}/send``): the gateway's quota gate, the invitations mailed.

Not seeded: signatures, completed agreements with their receipts and sealed PDFs, AI
analyses, webhook endpoints. A workspace's files are thus mostly its documents (the bytes) and
its agreements' JSON (the count).
"""

import math
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from .stack import Stack

MIB = 1024 * 1024


@dataclass(frozen=True)
class Seeded:
    workspace_id: str
    document_ids: list[str]
    document_bytes: int  # the PDFs' bytes, as uploaded
    agreement_ids: list[str]
    sent: int
    seconds: float  # seeding, including the wait for every service to take it in


def pdf_of(size: int) -> bytes:
    """A valid PDF of about ``size`` bytes (bench.large_pdf; imported here, as bench imports
    the phase that imports this module)."""
    from .bench import large_pdf

    return large_pdf(size)


def upload_documents(client, total_bytes: int, document_mib: float = 20.0) -> tuple[list[str], int]:
    """PDFs of ``document_mib`` uploaded until at least ``total_bytes``; (their ids, bytes
    uploaded). Each PDF is made while the previous one uploads (one at a time: the machine is
    small)."""
    size = max(64 * 1024, int(document_mib * MIB))
    count = max(1, math.ceil(total_bytes / size))
    ids, uploaded = [], 0
    with ThreadPoolExecutor(1) as maker:
        upcoming = maker.submit(pdf_of, size)
        for i in range(count):
            pdf = upcoming.result()
            if i + 1 < count:
                upcoming = maker.submit(pdf_of, size)
            ids.append(client.call("POST", f"/v1/documents?filename=seed-{i:04d}.pdf", 201, data=pdf,
                                   headers={"Content-Type": "application/pdf"}).json()["id"])
            uploaded += len(pdf)
    return ids, uploaded


def _command(i: int, document_id: str):
    from pactra_contracts.api import AgreementCreate

    signers = [{"name": name, "email": f"{name.split()[0].lower()}.{i}@example.com"}
               for name in ("Grace Hopper", "Alan Turing")]
    fields = [{"signer_email": s["email"], "type": kind, "page": 1, "x": 72 + 200 * n,
               "y": 600 - 60 * j, "width": 180, "height": 40}
              for n, s in enumerate(signers) for j, kind in enumerate(("signature", "text"))]
    return AgreementCreate.model_validate({
        "title": f"Seeded agreement {i}", "document_id": document_id,
        "message": "Please sign: seeded by make bench.", "signers": signers, "fields": fields,
        "metadata": {"seed": str(i), "customer": f"cus_{i:06d}"}})


def create_agreements(stack: Stack, workspace_id: str, document_ids: list[str], count: int,
                      threads: int = 2, progress: Callable[[int], None] | None = None) -> list[str]:
    """``count`` drafts made by signing's own use case, ``threads`` at a time; their ids."""
    from pactra_contracts.events import Actor
    from pactra_signing.bootstrap import bootstrap
    from pactra_signing.service_layer import agreements

    svc = bootstrap(stack.settings)
    try:
        described = {d: svc.peers.document(workspace_id, d, livemode=True) for d in document_ids}
        sender = agreements.sender_of(svc.uow, workspace_id)
        ctx = svc.context(None, Actor(kind="system", id="bench-seed"))
        made: list[str] = []
        lock = threading.Lock()

        def one(i: int) -> None:
            document = described[document_ids[i % len(document_ids)]]
            agreement = agreements.create(_command(i, document.id), workspace_id, document, sender,
                                          ctx, svc.uow(), livemode=True)
            with lock:
                made.append(agreement.id)
                if progress is not None and len(made) % 1000 == 0:
                    progress(len(made))

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(one, range(count)))
        return made
    finally:
        svc.sessions.kw["bind"].dispose()


def queued_messages(stack: Stack) -> int:
    """Messages waiting in the stack's handler queues: those a worker consumes (not the dead
    letters, nor the unrouted events, which stay until an operator looks)."""
    listed = subprocess.run(["rabbitmqctl", "-q", "list_queues", "-p", stack.vhost, "--no-table-headers",
                             "name", "messages", "consumers"], check=True, capture_output=True, text=True,
                            timeout=60)
    total = 0
    for line in listed.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit() and int(parts[2]) > 0:
            total += int(parts[1])
    return total


def wait_taken_in(stack: Stack, patience: float = 1800.0) -> float:
    """Until every queue is empty and Pactra's processes are idle: the seeded events are
    handled and the measurement that follows starts on a quiet platform. Seconds waited."""
    from .bench import settle

    started = time.perf_counter()
    while queued_messages(stack):
        if time.perf_counter() - started > patience:
            raise TimeoutError(f"{queued_messages(stack)} messages still queued after {patience:.0f} s")
        time.sleep(1.0)
    settle(stack, patience=max(1.0, patience - (time.perf_counter() - started)))
    return time.perf_counter() - started


def seed(stack: Stack, client, *, total_bytes: int, agreements: int, sent_share: float = 0.0,
         document_mib: float = 20.0, label: str = "workspace") -> Seeded:
    """Documents through the API, agreements through signing's use case, a share sent."""
    started = time.perf_counter()
    workspace_id = client.call("GET", "/v1/workspace").json()["id"]
    document_ids, uploaded = upload_documents(client, total_bytes, document_mib)
    print(f"  {label}: {len(document_ids)} documents, {uploaded / MIB:.0f} MiB uploaded through the API "
          f"in {time.perf_counter() - started:.0f} s", flush=True)
    made_at = time.perf_counter()
    ids = create_agreements(stack, workspace_id, document_ids, agreements, progress=lambda n: print(
        f"    {n} agreements made", flush=True) if n % 5000 == 0 else None)
    to_send = ids[:round(len(ids) * sent_share)]
    for agreement_id in to_send:
        client.call("POST", f"/v1/agreements/{agreement_id}/send")
    waited = wait_taken_in(stack)
    print(f"  {label}: {len(ids)} agreements by signing's use case ({len(to_send)} then sent through "
          f"the API) in {time.perf_counter() - made_at:.0f} s, of which {waited:.0f} s for the "
          f"services to take in their events", flush=True)
    return Seeded(workspace_id, document_ids, uploaded, ids, len(to_send), time.perf_counter() - started)

