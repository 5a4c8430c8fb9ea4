"""A drawn signature's PNG header is checked at sign time (security issue 10, item 3): more
than 4 Mpx, more than 8 bits per channel or a malformed IHDR is a 422 on
``signature.png_base64``; and the signer's copy of the trail masks other actors."""

import base64
import io
import struct
import zlib

import pytest
from PIL import Image

from pactra_contracts.api import SignRequest
from pactra_signing.domain import errors
from pactra_signing.domain.signing import check_png_header
from pactra_signing.entrypoints.views_signer import signer_audit
from pactra_signing.service_layer import agreements, signer_actions

from .test_agreements import _create, _token


def _png(width: int, height: int, mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), 0).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _with_header(png: bytes, width: int, height: int, depth: int, colour: int) -> bytes:
    body = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return png[:16] + body + struct.pack(">I", zlib.crc32(b"IHDR" + body)) + png[33:]


@pytest.mark.parametrize(("png", "message"), [
    (_png(2001, 2000, "L"), "pixels"),
    (_with_header(_png(10, 10), 30_000, 30_000, 8, 6), "pixels"),
    (_png(10, 10, "I;16"), "bits per channel"),
    (_with_header(_png(10, 10), 10, 10, 16, 6), "bits per channel"),
    (_with_header(_png(10, 10), 10, 10, 3, 6), "malformed"),  # no such depth for RGBA
    (_with_header(_png(10, 10), 0, 10, 8, 6), "malformed"),
    (_with_header(_png(10, 10), 10, 10, 8, 5), "malformed"),  # no colour type 5
    (_png(10, 10)[:29] + b"\0\0\0\0" + _png(10, 10)[33:], "malformed"),  # CRC
    (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", "complete"),
    (b"\x89PNG\r\n\x1a\n\0\0\0\x0dIDAT" + b"\0" * 17, "malformed"),  # not IHDR first
])
def test_refused_headers(png: bytes, message: str) -> None:
    with pytest.raises(errors.Invalid, match=message) as refused:
        check_png_header(png)
    assert refused.value.field == "signature.png_base64"


@pytest.mark.parametrize("png", [_png(2000, 2000, "L"), _png(400, 120), _png(8, 8, "P"), _png(8, 8, "1")])
def test_accepted_headers(png: bytes) -> None:
    check_png_header(png)


def test_signing_with_a_bomb_is_refused_and_changes_nothing(settings, ctx, uow_factory, sender, outbox):
    agreement = _create(ctx, uow_factory, sender)
    agreements.send("ws_test", agreement.id, ctx, uow_factory())
    token = _token(settings, outbox, agreement.signers[1].id)

    def sign(png: bytes):
        cmd = SignRequest.model_validate({"consent": True, "signature": {
            "type": "drawn", "png_base64": base64.b64encode(png).decode()}})
        return signer_actions.sign(token, cmd, ctx, uow_factory(), None, None)

    with pytest.raises(errors.Invalid, match="pixels"):
        sign(_png(5000, 5000, "L"))
    assert not [e for e in outbox("signer.signed") if e["data"]["agreement_id"] == agreement.id]
    assert sign(_png(300, 100)).signer_status == "signed"


def test_the_signers_trail_masks_everyone_else() -> None:
    def entry(kind: str, actor_id: str, ip: str | None, agent: str | None) -> dict:
        return {"seq": 0, "type": "t", "actor": {"kind": kind, "id": actor_id, "ip": ip, "user_agent": agent},
                "data": {}, "hash": "h"}

    trail = {"agreement_id": "agr_1", "entries": [
        entry("signer", "sgr_me", "203.0.113.1", "Mine/1"),
        entry("signer", "sgr_other", "198.51.100.2", "Theirs/1"),
        entry("api_key", "key_1", "192.0.2.3", None), entry("system", "system", None, None)]}
    shown = signer_audit(trail, "sgr_me")["entries"]
    assert [e["actor"] for e in shown] == [
        {"kind": "signer", "id": "sgr_me", "ip": "203.0.113.1", "user_agent": "Mine/1"},
        {"kind": "signer", "id": "sgr_other", "ip": "masked", "user_agent": "masked"},
        {"kind": "api_key", "id": "key_1", "ip": "masked", "user_agent": None},
        {"kind": "system", "id": "system", "ip": None, "user_agent": None}]
    assert trail["entries"][1]["actor"]["ip"] == "198.51.100.2"  # the input is left as it was
