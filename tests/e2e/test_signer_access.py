"""Security issue 10 items 3 and 4, issue 11: what a signer's link still reaches, on the whole
platform. A drawn signature that would inflate to a decompression bomb is refused at sign
time; ending an agreement ends access to its document (410), a completed one keeps only its
signed copy and evidence; the signer's audit trail masks everyone else's IP and user agent."""

import base64
import io
import struct
import zlib

import requests
from PIL import Image

from pactra_devtools.testing import auth, signup

from . import flows

FIELD = "signature.png_base64"


def _png(width: int, height: int, mode: str = "L") -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), 255).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _sign(link: str, png: bytes, user_agent: str, fields: dict | None = None) -> requests.Response:
    info = requests.get(link + "/info", timeout=30, headers={"User-Agent": user_agent}).json()
    values = {f["id"]: "2026-11-28" for f in info["fields"] if f["type"] == "date"} | (fields or {})
    return requests.post(link + "/sign", timeout=30, headers={"User-Agent": user_agent}, json={
        "consent": True, "signature": {"type": "drawn", "png_base64": base64.b64encode(png).decode()},
        "fields": values})


def _refused(response: requests.Response) -> str:
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert [e["field"] for e in problem["errors"]] == [FIELD]
    return problem["errors"][0]["message"]


def _document_gone(link: str) -> None:
    for path in ("/document", "/pages/1.png"):
        response = requests.get(link + path, timeout=30)
        assert response.status_code == 410, (path, response.text)
        assert response.json()["code"] == "gone"


def test_a_decompression_bomb_signature_is_refused_and_a_fair_one_signs(stack, gateway) -> None:
    _, _, _, link = flows.sent_to_one_signer(stack, gateway)
    bomb = _png(10_000, 10_000)  # about 100 Mpx in some 10 kB
    assert len(bomb) < 200_000
    assert "pixels" in _refused(_sign(link, bomb, "bomb"))
    assert "pixels" in _refused(_sign(link, _png(2001, 2000), "just over"))
    assert "bits per channel" in _refused(_sign(link, _png(40, 20, "I;16"), "sixteen bits"))
    fair = _png(400, 120, "RGBA")
    broken = bytearray(fair)
    broken[29] ^= 0xFF  # a byte of the IHDR: its CRC no longer matches
    assert "malformed" in _refused(_sign(link, bytes(broken), "broken"))
    # A valid CRC over an impossible header (bit depth 3) is malformed too.
    impossible = bytearray(fair)
    body = struct.pack(">IIBBBBB", 400, 120, 3, 6, 0, 0, 0)
    impossible[16:29], impossible[29:33] = body, struct.pack(">I", zlib.crc32(b"IHDR" + body))
    assert "malformed" in _refused(_sign(link, bytes(impossible), "impossible"))
    assert "complete" in _refused(_sign(link, fair[:20], "truncated"))
    assert _sign(link, fair, "fair").status_code == 200


def test_ending_an_agreement_ends_document_access(stack, gateway) -> None:
    account, _, agreement, link = flows.sent_to_one_signer(stack, gateway)
    assert requests.get(link + "/document", timeout=30).status_code == 200
    assert requests.get(link + "/pages/1.png", timeout=30).status_code == 200
    flows.act(gateway, account, agreement["id"], "void", {"reason": "Wrong counterparty"})
    _document_gone(link)

    # Declined: the decliner's link, and every other signer's.
    account = signup(gateway)
    document = flows.upload(gateway, account)
    signers = flows.people(2)
    agreement = flows.create(gateway, account, document["id"], signers)
    flows.act(gateway, account, agreement["id"], "send")
    links = [flows.invitation_link(stack, s["email"]) for s in signers]
    declined = requests.post(links[0] + "/decline", json={"reason": "Not these terms"}, timeout=30)
    assert declined.status_code == 200, declined.text
    for each in links:
        _document_gone(each)
    flows.wait_for_evidence(gateway, account, agreement["id"])
    assert requests.get(links[0] + "/receipt", timeout=30).status_code == 200


def test_a_completed_agreement_keeps_only_its_signed_copy_and_evidence(stack, gateway) -> None:
    account = signup(gateway)
    document = flows.upload(gateway, account)
    signers = flows.people(2)
    agreement = flows.create(gateway, account, document["id"], signers)
    flows.act(gateway, account, agreement["id"], "send")
    links = [flows.invitation_link(stack, s["email"]) for s in signers]
    fair = _png(300, 90, "RGBA")
    agents = ["Signer-A-Browser/1.0", "Signer-B-Browser/2.0"]
    for each, agent in zip(links, agents, strict=True):
        assert _sign(each, fair, agent).status_code == 200
    flows.wait_for_evidence(gateway, account, agreement["id"])

    for each in links:
        _document_gone(each)
    for evidence in ("signed.pdf", "receipt", "audit"):
        response = requests.get(links[0] + f"/{evidence}", timeout=30)
        assert response.status_code == 200, (evidence, response.text)

    # The sender's trail holds every actor's IP and user agent; signer A's copy only A's.
    full = requests.get(gateway + f"/v1/agreements/{agreement['id']}/audit", headers=auth(account),
                        timeout=30).json()["entries"]
    shown = requests.get(links[0] + "/audit", timeout=30).json()["entries"]
    assert [e["hash"] for e in shown] == [e["hash"] for e in full]
    signer_a = next(e for e in full if e["type"] == "signer.signed"
                    and e["actor"]["user_agent"] == agents[0])["actor"]["id"]
    for entry_full, entry in zip(full, shown, strict=True):
        actor = entry["actor"]
        if actor["id"] == signer_a:
            assert actor == entry_full["actor"]
        else:
            for key in ("ip", "user_agent"):
                assert actor[key] == ("masked" if entry_full["actor"][key] is not None else None)
    seen = {e["actor"]["user_agent"] for e in shown}
    assert agents[0] in seen and agents[1] not in seen and "masked" in seen
    sender_entries = [e for e in shown if e["actor"]["kind"] == "api_key"]
    assert sender_entries and all(e["actor"]["ip"] == "masked" for e in sender_entries)
