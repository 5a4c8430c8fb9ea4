"""The documents API through the gateway: upload, read back, list, delete, isolation."""

import hashlib
import io
import struct

import requests
from minio import Minio

from pactra_devtools.testing import wait_until
from pactra_platform.storage import bucket_name, object_store

from .conftest import FOUR_PAGES, MINIMAL, PDFS, Account, Docs


def test_raw_upload_answers_with_the_document(docs: Docs, account: Account) -> None:
    data = MINIMAL.read_bytes()
    response = docs.upload(account, data, filename="Lease 2026.pdf")
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"id", "filename", "size", "sha256", "pages", "page_sizes", "created_at", "livemode"}
    assert body["id"].startswith("doc_")
    assert body["filename"] == "Lease 2026.pdf"
    assert body["size"] == len(data)
    assert body["sha256"] == hashlib.sha256(data).hexdigest()
    assert body["pages"] == 1
    assert body["page_sizes"] == [{"width": 595.28, "height": 841.89}]  # A4, in points
    assert body["created_at"].endswith("Z") and len(body["created_at"]) == 24
    assert docs.get(account, f"/v1/documents/{body['id']}").json() == body


def test_octet_stream_upload_is_accepted(docs: Docs, account: Account) -> None:
    response = docs.upload(account, MINIMAL.read_bytes(), content_type="application/octet-stream")
    assert response.status_code == 201, response.text


def test_multipart_upload_takes_the_file_part(docs: Docs, account: Account) -> None:
    data = FOUR_PAGES.read_bytes()
    response = requests.post(
        docs.url + "/v1/documents", headers=account.headers, timeout=60,
        data={"note": "ignored"}, files={"file": ("four pages.pdf", data, "application/pdf")})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["filename"] == "four pages.pdf"
    assert body["pages"] == 4
    assert len(body["page_sizes"]) == 4
    assert body["sha256"] == hashlib.sha256(data).hexdigest()


def test_multipart_without_a_file_part_is_refused(docs: Docs, account: Account) -> None:
    response = requests.post(docs.url + "/v1/documents", headers=account.headers, timeout=30,
                             files={"document": ("a.pdf", MINIMAL.read_bytes())})
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"


def test_content_is_the_exact_bytes(docs: Docs, account: Account, uploaded) -> None:
    document = uploaded(FOUR_PAGES)
    response = docs.get(account, f"/v1/documents/{document['id']}/content")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.content == FOUR_PAGES.read_bytes()


def test_text_has_one_form_feed_between_pages(docs: Docs, account: Account, uploaded) -> None:
    document = uploaded(FOUR_PAGES)
    response = docs.get(account, f"/v1/documents/{document['id']}/text")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"
    pages = response.content.decode("utf-8").split("\f")
    assert len(pages) == 4
    assert all(page.strip() for page in pages)
    again = docs.get(account, f"/v1/documents/{document['id']}/text")
    assert again.content == response.content  # offsets refer to it: it must not change


def test_page_rendering(docs: Docs, account: Account, uploaded) -> None:
    document = uploaded(FOUR_PAGES)
    response = docs.peer().request("GET", f"/v1/documents/{document['id']}/pages/2",
                                   workspace_id=account.workspace_id)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/png"
    png = response.content
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])
    assert 600 <= width <= 1200 and 0 < height <= 4000
    for page in (0, 5):
        missing = docs.peer().request("GET", f"/v1/documents/{document['id']}/pages/{page}",
                                      workspace_id=account.workspace_id)
        assert missing.status_code == 404


def test_page_sizes_are_as_displayed_and_match_the_page_images(docs: Docs, account: Account,
                                                                uploaded) -> None:
    """A page turned by /Rotate is as wide as its image: its size is the rotated one."""
    document = uploaded(PDFS / "pysample__015-arabic__habibi-rotated.pdf")
    sizes = document["page_sizes"]
    assert len(sizes) == document["pages"] == 4
    assert sizes[0]["width"] > sizes[0]["height"]  # /Rotate 90: landscape as shown
    assert sizes[1]["width"] < sizes[1]["height"]  # /Rotate 180: still portrait
    for number, size in enumerate(sizes, start=1):
        png = docs.peer().request("GET", f"/v1/documents/{document['id']}/pages/{number}",
                                  workspace_id=account.workspace_id).content
        width, height = struct.unpack(">II", png[16:24])
        assert abs(width / height - size["width"] / size["height"]) < 0.01


def test_peer_service_reads_with_the_workspace_header(docs: Docs, account: Account,
                                                      uploaded) -> None:
    document = uploaded()
    peer = docs.peer()
    meta = peer.request("GET", f"/v1/documents/{document['id']}", workspace_id=account.workspace_id)
    assert meta.status_code == 200 and meta.json()["sha256"] == document["sha256"]
    content = peer.request("GET", f"/v1/documents/{document['id']}/content",
                           workspace_id=account.workspace_id)
    assert content.content == MINIMAL.read_bytes()
    other = peer.request("GET", f"/v1/documents/{document['id']}", workspace_id="ws_other")
    assert other.status_code == 404
    unsigned = requests.get(docs.stack.settings.url_of("documents")
                            + f"/v1/documents/{document['id']}", timeout=10)
    assert unsigned.status_code == 401


def test_list_is_newest_first_with_cursor(docs: Docs) -> None:
    account = docs.account()
    ids = []
    for index in range(3):
        response = docs.upload(account, MINIMAL.read_bytes(), filename=f"{index}.pdf")
        assert response.status_code == 201
        ids.append(response.json()["id"])
    response = docs.get(account, "/v1/documents", params={"limit": 2})
    assert response.status_code == 200, response.text
    first = response.json()
    assert [d["id"] for d in first["data"]] == [ids[2], ids[1]]
    assert first["has_more"] is True and first["next_cursor"] == ids[1]
    second = docs.get(account, "/v1/documents",
                      params={"limit": 2, "starting_after": first["next_cursor"]}).json()
    assert [d["id"] for d in second["data"]] == [ids[0]]
    assert second["has_more"] is False and second["next_cursor"] is None
    assert docs.get(account, "/v1/documents", params={"limit": 0}).status_code == 422
    assert docs.get(account, "/v1/documents", params={"limit": "x"}).status_code == 422
    assert docs.get(account, "/v1/documents",
                    params={"starting_after": "doc_nope"}).status_code == 422


def test_another_workspace_sees_nothing(docs: Docs, account: Account, uploaded) -> None:
    document = uploaded()
    stranger = docs.account()
    for suffix in ("", "/content", "/text", "/pages/1"):
        response = docs.get(stranger, f"/v1/documents/{document['id']}{suffix}")
        assert response.status_code == 404, suffix
        assert response.json()["code"] == "not_found"
    assert docs.delete(stranger, f"/v1/documents/{document['id']}").status_code == 404
    listed = docs.get(stranger, "/v1/documents").json()["data"]
    assert document["id"] not in [d["id"] for d in listed]
    assert docs.get(account, f"/v1/documents/{document['id']}").status_code == 200


def test_delete_removes_row_objects_and_publishes(docs: Docs, account: Account,
                                                  uploaded) -> None:
    document = uploaded()
    client = object_store(docs.stack.settings)
    bucket = bucket_name(docs.stack.settings, "documents")
    prefix = f"{account.workspace_id}/{document['id']}/"
    assert len(list(client.list_objects(bucket, prefix=prefix, recursive=True))) == 2
    assert docs.delete(account, f"/v1/documents/{document['id']}").status_code == 204
    for suffix in ("", "/content", "/text"):
        assert docs.get(account, f"/v1/documents/{document['id']}{suffix}").status_code == 404
    assert docs.delete(account, f"/v1/documents/{document['id']}").status_code == 404
    assert list(client.list_objects(bucket, prefix=prefix, recursive=True)) == []
    deleted = [e for e in docs.outbox("document.deleted")
               if e["data"]["document_id"] == document["id"]]
    assert len(deleted) == 1 and deleted[0]["workspace_id"] == account.workspace_id


def test_upload_event_is_published(docs: Docs, account: Account, uploaded) -> None:
    document = uploaded(filename="event.pdf")

    def published() -> list[dict]:
        rows = docs.sql("SELECT body, published_at FROM outbox WHERE type = 'document.uploaded'")
        return [body for body, at in rows
                if body["data"]["document_id"] == document["id"] and at is not None]

    event = wait_until(published, timeout=20)[0]
    assert event["producer"] == "documents"
    assert event["workspace_id"] == account.workspace_id
    assert event["data"] == {"document_id": document["id"], "sha256": document["sha256"],
                             "size": document["size"], "pages": 1, "filename": "event.pdf",
                             "livemode": True}
    assert event["actor"]["kind"] == "api_key"


def test_objects_in_the_bucket_are_ciphertext(docs: Docs, account: Account, uploaded) -> None:
    document = uploaded(FOUR_PAGES)
    client: Minio = object_store(docs.stack.settings)
    bucket = bucket_name(docs.stack.settings, "documents")
    plain_pdf = FOUR_PAGES.read_bytes()
    plain_text = docs.get(account, f"/v1/documents/{document['id']}/text").content
    for name, plaintext in (("original.pdf", plain_pdf), ("text.txt", plain_text)):
        response = client.get_object(bucket, f"{account.workspace_id}/{document['id']}/{name}")
        try:
            stored = response.read()
        finally:
            response.close()
            response.release_conn()
        assert b"%PDF" not in stored
        assert plaintext[100:140] not in stored
        assert hashlib.sha256(stored).hexdigest() != hashlib.sha256(plaintext).hexdigest()


def test_filenames_are_cleaned(docs: Docs, account: Account) -> None:
    cases = {
        "../../etc/passwd.pdf": "passwd.pdf",
        "C:\\Users\\ada\\contract.pdf": "contract.pdf",
        "in\x00voice\x07\x1b[31m.pdf": "invoice[31m.pdf",
        "\u202egnp.pdf": "gnp.pdf",
        "..": "document.pdf",
        "   ": "document.pdf",
    }
    for raw, expected in cases.items():
        response = docs.upload(account, MINIMAL.read_bytes(), filename=raw)
        assert response.status_code == 201, response.text
        assert response.json()["filename"] == expected, raw
    without = docs.upload(account, MINIMAL.read_bytes(), filename=None)
    assert without.json()["filename"] == "document.pdf"
    files = {"file": ("../../x/\x01evil.pdf", io.BytesIO(MINIMAL.read_bytes()), "application/pdf")}
    multipart = requests.post(docs.url + "/v1/documents", headers=account.headers, files=files,
                              timeout=60)
    assert multipart.json()["filename"] == "evil.pdf"
