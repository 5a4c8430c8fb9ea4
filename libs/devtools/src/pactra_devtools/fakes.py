"""Fakes every service's unit tests share: ``FakeUnitOfWork``, which its ``tests/unit/fakes.py``
builds on (the outbox and the inbox of ``pactra_platform.unit_of_work.UnitOfWork`` in memory; a
service's fake adds its in-memory repositories), and ``FakeObjectStore`` for a bucket
(``pactra_platform.objects.EncryptedObjectStore``)."""

from collections.abc import Iterable, Iterator
from typing import Any, Self

from pactra_contracts.events import Event
from pactra_platform.objects import ObjectMissing


class FakeUnitOfWork:
    """Events published leave (into ``published``) only when the unit of work commits."""

    def __init__(self) -> None:
        self.published: list[Event[Any]] = []
        self.pending: list[Event[Any]] = []
        self.claimed: set[tuple[str, str]] = set()
        self.commits = 0

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.rollback()

    def publish(self, event: Event[Any]) -> None:
        self.pending.append(event)

    def claim(self, event: Event[Any], consumer: str) -> bool:
        if (event.id, consumer) in self.claimed:
            return False
        self.claimed.add((event.id, consumer))
        return True

    def commit(self) -> None:
        self.published += self.pending
        self.pending = []
        self.commits += 1

    def rollback(self) -> None:
        self.pending = []

    def types(self) -> list[str]:
        """The types of the events published, in order."""
        return [event.type for event in self.published]


class FakeObjectStore:
    """Objects in a dict, as plaintext."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put(self, name: str, chunks: Iterable[bytes], *, workspace_id: str | None = None) -> int:
        self.objects[name] = b"".join(chunks)
        return len(self.objects[name])

    def get(self, name: str) -> Iterator[bytes]:
        if name not in self.objects:
            raise ObjectMissing(name)
        return iter([self.objects[name]])

    def delete(self, name: str) -> None:
        self.objects.pop(name, None)

    def delete_prefix(self, prefix: str) -> int:
        names = [name for name in self.objects if name.startswith(prefix)]
        for name in names:
            del self.objects[name]
        return len(names)
