"""Events of an agreement's life as the signing service publishes them, and a way to put them
on the bus the way its relay does."""

import asyncio
import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import aio_pika
from PIL import Image

from pactra_contracts.events import (
    Actor,
    AgreementCompleted,
    AgreementCreated,
    AgreementEnded,
    AgreementSent,
    Event,
    FieldPlacement,
    Person,
    SealedLink,
    Signature,
    SignedBy,
    SignerDeclined,
    SignerInvited,
    SignerSigned,
    SignerSummary,
    SignerViewed,
    make_event,
)
from pactra_contracts.ids import new_id
from pactra_contracts.times import utcnow
from pactra_devtools.testing import shared_data
from pactra_platform.settings import Settings

SAMPLE = shared_data("pdfs", "pysample__004-pdflatex-4-pages__pdflatex-4-pages.pdf")
SENDER = Person(name="Ada Lovelace", email="ada@example.com")
BROWSERS = ["Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0",
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15"]


def drawn_png() -> str:
    image = Image.new("RGBA", (160, 50), (255, 255, 255, 0))
    for x in range(10, 150):
        image.putpixel((x, 25 + (x // 5) % 9 - 4), (10, 10, 120, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return base64.b64encode(out.getvalue()).decode()


@dataclass
class AgreementStory:
    """One agreement's events, in the order they happened."""

    workspace_id: str
    document_id: str
    document_sha256: str
    pages: int
    agreement_id: str = field(default_factory=lambda: new_id("agr"))
    signers: list[SignerSummary] = field(default_factory=list)
    fields: list[FieldPlacement] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    clock: int = 0

    def __post_init__(self) -> None:
        people = [("Grace Hopper", "grace@example.com"), ("Alan Turing", "alan@example.com")]
        for order, (name, email) in enumerate(people, start=1):
            self.signers.append(SignerSummary(id=new_id("sgr"), name=name, email=email, order=order))
        first, second = self.signers
        self.fields = [
            FieldPlacement(id=new_id("fld"), signer_id=first.id, type="signature", page=1,
                           x=72, y=620, width=180, height=40),
            FieldPlacement(id=new_id("fld"), signer_id=first.id, type="date", page=1,
                           x=300, y=630, width=100, height=20),
            FieldPlacement(id=new_id("fld"), signer_id=second.id, type="signature", page=self.pages,
                           x=72, y=620, width=180, height=40),
            FieldPlacement(id=new_id("fld"), signer_id=second.id, type="text", page=self.pages,
                           x=300, y=630, width=200, height=20),
        ]

    def _event(self, event_type: str, data: object, actor: Actor | None = None) -> Event:
        self.clock += 1
        event = make_event(event_type, data, producer="signing", workspace_id=self.workspace_id,
                           correlation_id=self.agreement_id,
                           actor=actor or Actor(kind="api_key", id="key_test"),
                           occurred_at=utcnow() - timedelta(minutes=60) + timedelta(seconds=self.clock))
        self.events.append(event)
        return event

    def signer_actor(self, index: int) -> Actor:
        return Actor(kind="signer", id=self.signers[index].id, ip=f"203.0.113.{10 + index}",
                     user_agent=BROWSERS[index])

    def create_and_send(self) -> None:
        self._event("agreement.created", AgreementCreated(
            agreement_id=self.agreement_id, title="Lease of the Analytical Engine",
            document_id=self.document_id, document_sha256=self.document_sha256,
            document_pages=self.pages, message="Please sign", signing_order="parallel",
            expires_at=utcnow() + timedelta(days=30), sender=SENDER, signers=self.signers,
            fields=self.fields))
        self._event("agreement.sent", AgreementSent(
            agreement_id=self.agreement_id, signing_order="parallel",
            signer_ids=[s.id for s in self.signers]))
        for signer in self.signers:
            self._event("signer.invited", SignerInvited(
                agreement_id=self.agreement_id, signer_id=signer.id, name=signer.name,
                email=signer.email, link=SealedLink(sealed="c2VhbGVkLWxpbmstbm90LWluLWNsZWFy"),
                message=None, sender=SENDER, title="Lease of the Analytical Engine",
                expires_at=None))

    def view(self, index: int) -> None:
        self._event("signer.viewed", SignerViewed(
            agreement_id=self.agreement_id, signer_id=self.signers[index].id), self.signer_actor(index))

    def sign(self, index: int) -> None:
        signature = (Signature(type="typed", text=self.signers[index].name) if index == 0
                     else Signature(type="drawn", png_base64=drawn_png()))
        values = ({self.fields[1].id: "2026-11-28"} if index == 0
                  else {self.fields[3].id: "Turing Machines Ltd"})
        self._event("signer.signed", SignerSigned(
            agreement_id=self.agreement_id, signer_id=self.signers[index].id,
            consent_at=utcnow() - timedelta(minutes=30 - index), document_sha256=self.document_sha256,
            signature=signature, field_values=values), self.signer_actor(index))

    def complete(self) -> None:
        signed = [e.payload() for e in self.events if e.type == "signer.signed"]
        self._event("agreement.completed", AgreementCompleted(
            agreement_id=self.agreement_id,
            signatures=[SignedBy(signer_id=s.signer_id, signature=s.signature,
                                 field_values=s.field_values) for s in signed]))

    def decline(self, index: int, reason: str) -> None:
        self._event("signer.declined", SignerDeclined(
            agreement_id=self.agreement_id, signer_id=self.signers[index].id, reason=reason),
            self.signer_actor(index))
        self._event("agreement.declined", AgreementEnded(
            agreement_id=self.agreement_id, reason=reason, notify_signer_ids=[]))

    def end(self, event_type: str, reason: str | None) -> None:
        self._event(event_type, AgreementEnded(agreement_id=self.agreement_id, reason=reason,
                                               notify_signer_ids=[s.id for s in self.signers]))


async def _publish(settings: Settings, events: Sequence[Event]) -> None:
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(f"{settings.bus_prefix}.events", ensure=True)
        for event in events:
            await exchange.publish(
                aio_pika.Message(event.to_json(), message_id=event.id, content_type="application/json",
                                 delivery_mode=aio_pika.DeliveryMode.PERSISTENT, type=event.type),
                routing_key=event.type, timeout=10)
    finally:
        await connection.close()


def publish(settings: Settings, events: Sequence[Event]) -> None:
    asyncio.run(_publish(settings, events))
