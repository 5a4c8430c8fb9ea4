"""The security log's chaining rules (api.md, "Security events"): each entry is
``{id, type, at, actor, ip, data, prev, hash}`` where ``hash = sha256(JCS(entry without hash))``
(RFC 8785) and ``prev`` is the previous entry's hash (64 zeros for the first), so rewriting or
removing an entry breaks every hash after it. Storing entries is adapters/security_log.py."""

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

import rfc8785

from pactra_contracts.events import Actor

GENESIS = "0" * 64


def entry_hash(entry: Mapping[str, Any]) -> str:
    """sha256 hex of the RFC 8785 form of ``entry`` without its ``hash`` member."""
    unhashed = {name: value for name, value in entry.items() if name != "hash"}
    return hashlib.sha256(rfc8785.dumps(unhashed)).hexdigest()


def actor_json(actor: Actor | Mapping[str, Any]) -> dict[str, str]:
    """Who acted, as an entry keeps it: its kind and id only."""
    if isinstance(actor, Actor):
        return {"kind": actor.kind, "id": actor.id}
    return {"kind": str(actor["kind"]), "id": str(actor["id"])}


def chained(entry: Mapping[str, Any], prev: str) -> dict[str, Any]:
    """``entry`` linked after the entry whose hash is ``prev``, with its own hash."""
    linked = {**entry, "prev": prev}
    linked["hash"] = entry_hash(linked)
    return linked


def verify_chain(entries_oldest_first: Iterable[Mapping[str, Any]]) -> list[str]:
    """What is wrong with a chain, entry by entry; empty when every hash and link holds."""
    problems = []
    prev = GENESIS
    for index, entry in enumerate(entries_oldest_first):
        if entry.get("prev") != prev:
            problems.append(f"entry {index} ({entry.get('id')}): prev does not match the entry before")
        if entry_hash(entry) != entry.get("hash"):
            problems.append(f"entry {index} ({entry.get('id')}): hash does not match its content")
        prev = str(entry.get("hash"))
    return problems
