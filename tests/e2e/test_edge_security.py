"""What a whole agreement life leaves in the logs of every process (no signing token, API key or
document text), and the signer page's protections: headers, and JSON-only actions."""

import secrets
from pathlib import Path

import requests

from pactra_devtools.testing import auth, signup, wait_until

from . import flows


def _pdf_saying(text: str) -> bytes:
    """A one-page PDF whose only text is ``text``."""
    content = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >>"
        b" /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_whole_life_leaves_no_secret_in_any_log(stack, gateway, tmp_path: Path):
    marker = f"Clause{secrets.token_hex(8)}"
    pdf = tmp_path / "secret-terms.pdf"
    pdf.write_bytes(_pdf_saying(f"The parties agree that {marker} binds them."))
    account = signup(gateway)
    key = account["api_key"]["key"]
    document = flows.upload(gateway, account, pdf)
    text_url = gateway + f"/v1/documents/{document['id']}/text"
    text = wait_until(lambda: (r := requests.get(text_url, headers=auth(account), timeout=30))
                      .status_code == 200 and r.text, timeout=60)
    assert marker in text  # the documents service did read it, so it was there to leak
    analysis = gateway + f"/v1/documents/{document['id']}/analysis"
    assert requests.post(analysis, headers=auth(account), timeout=30).status_code in (200, 202)
    wait_until(lambda: requests.get(analysis, headers=auth(account), timeout=30).json()["status"] == "ready",
               timeout=60)
    signer = flows.people(1)
    agreement = flows.create(gateway, account, document["id"], signer)
    flows.act(gateway, account, agreement["id"], "send")
    link = flows.invitation_link(stack, signer[0]["email"])
    # The signer's whole visit, a few wrong turns included (their answers must not log the token).
    assert requests.get(link, timeout=30).status_code == 200
    assert requests.get(link + "/pages/1.png", timeout=30).status_code == 200
    assert requests.get(link + "/pages/99.png", timeout=30).status_code == 404
    assert requests.post(link + "/sign", data="consent=1", timeout=30,
                         headers={"Content-Type": "application/x-www-form-urlencoded"}).status_code == 415
    assert flows.sign(link, signer[0]["name"]).status_code == 200
    assert flows.sign(link, signer[0]["name"]).status_code in (409, 410)
    flows.wait_for_evidence(gateway, account, agreement["id"])
    for evidence in ("receipt", "signed.pdf"):
        assert requests.get(link + f"/{evidence}", timeout=30).status_code == 200
    # Every link mailed to the signer (invitation, completion) carries a token.
    tokens = {found.rsplit("/", 1)[1]
              for message in stack.messages(to=signer[0]["email"])
              for found in flows.LINK.findall(message["text"] + (message.get("html") or ""))}
    assert tokens

    secrets_to_hide = {"API key": key, "document text": marker} | {f"token {t[:6]}...": t for t in tokens}
    # nginx buffers its access log (written within a second): once the signer's last request
    # is in it, every earlier line is too (the log is written in order).
    edge_log = stack.workdir / "nginx.log"
    wait_until(lambda: "/s/<redacted>/signed.pdf" in edge_log.read_text(errors="replace"), timeout=30,
               message="the signer's last request in nginx's access log")
    logs = {path.name: path.read_text(errors="replace") for path in sorted(stack.workdir.glob("*.log"))}
    assert {"gateway.log", "nginx.log", "signing.log", "notify-worker.log"} <= logs.keys()
    leaks = [(what, name) for name, text in logs.items() for what, secret in secrets_to_hide.items()
             if secret in text]
    assert not leaks, leaks
    # The signer's requests were logged, with the token redacted: the check above looked at them.
    assert "/s/<redacted>/sign" in logs["nginx.log"]


def test_the_signer_page_cannot_be_framed_and_takes_only_json(stack, gateway):
    _, _, _, link = flows.sent_to_one_signer(stack, gateway)
    page = requests.get(link, timeout=30)
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    for directive in ("frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'", "script-src 'self'"):
        assert directive in policy
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert requests.get(link + "/info", timeout=30).headers["X-Content-Type-Options"] == "nosniff"
    consent = b'{"consent": true, "signature": {"type": "typed", "text": "Grace Hopper"}, "fields": {}}'
    for action in ("sign", "decline"):
        for content_type in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data; b=x",
                             None):
            headers = {"Content-Type": content_type} if content_type else {}
            refused = requests.post(link + f"/{action}", data=consent, headers=headers, timeout=30)
            assert refused.status_code == 415, (action, content_type, refused.text)
            assert refused.json()["code"] == "unsupported_media_type"
    # Nothing was signed by the refused posts; the page still offers to sign.
    assert requests.get(link + "/info", timeout=30).json()["status"] in ("invited", "viewed")
