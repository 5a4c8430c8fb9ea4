"""Page images: rendered once, kept encrypted, and a page that cannot be rendered is a problem
document (never a 500); the renderer starts in a sandbox. (Bounded in concurrency:
tests/unit/test_page_images.py.)"""

import re

import pytest
from minio import Minio

from pactra_devtools.testing import wait_until
from pactra_platform.objects import MAGIC2, EncryptedObjectStore, ObjectMissing
from pactra_platform.storage import bucket_name, object_store

from .conftest import FOUR_PAGES, Account, Docs


def renders_of(docs: Docs, document_id: str, page: int) -> int:
    return len(re.findall(rf"rendered page {page} of {document_id}\b",
                          docs.stack.log("documents")))


def get_page(docs: Docs, account: Account, document_id: str, page: int):
    return docs.peer().request("GET", f"/v1/documents/{document_id}/pages/{page}",
                               workspace_id=account.workspace_id)


def test_a_page_is_rendered_once_and_kept_encrypted(docs: Docs, account: Account,
                                                    uploaded) -> None:
    document = uploaded(FOUR_PAGES)
    first = get_page(docs, account, document["id"], 3)
    assert first.status_code == 200 and first.content.startswith(b"\x89PNG")
    wait_until(lambda: renders_of(docs, document["id"], 3) == 1, timeout=10)
    again = get_page(docs, account, document["id"], 3)
    assert again.status_code == 200 and again.content == first.content
    assert renders_of(docs, document["id"], 3) == 1  # the second came from the stored image
    # The stored image is ciphertext, like every object.
    client: Minio = object_store(docs.stack.settings)
    stored = client.get_object(bucket_name(docs.stack.settings, "documents"),
                               f"{account.workspace_id}/{document['id']}/pages/3.png")
    try:
        raw = stored.read()
    finally:
        stored.close()
        stored.release_conn()
    # Sealed under the workspace's key (issue 15: deleting the workspace shreds it).
    assert raw.startswith(MAGIC2) and b"\x89PNG" not in raw and b"IHDR" not in raw


def test_deleting_the_document_deletes_its_page_images(docs: Docs, account: Account,
                                                       uploaded) -> None:
    document = uploaded(FOUR_PAGES)
    assert get_page(docs, account, document["id"], 1).status_code == 200
    assert docs.delete(account, f"/v1/documents/{document['id']}").status_code == 204
    store = EncryptedObjectStore(docs.stack.settings, "documents")
    with pytest.raises(ObjectMissing):
        store.get(f"{account.workspace_id}/{document['id']}/pages/1.png")


def test_a_page_that_cannot_be_rendered_is_422(docs: Docs, account: Account, uploaded) -> None:
    """The stored original replaced by bytes no renderer opens: a problem, not a 500."""
    document = uploaded(FOUR_PAGES)
    store = EncryptedObjectStore(docs.stack.settings, "documents")
    store.put(f"{account.workspace_id}/{document['id']}/original.pdf", [b"%PDF-1.7\nbroken"])
    response = get_page(docs, account, document["id"], 2)
    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_pdf"
    assert renders_of(docs, document["id"], 2) == 0


def test_the_service_says_at_start_up_what_protects_its_sandbox(docs: Docs) -> None:
    lines = [line for line in docs.stack.log("documents").splitlines()
             if "sandbox for documents:" in line]
    assert len(lines) == 1, lines
    for protection in ("empty_env=on", "no_fds=on", "rlimits=on", "seccomp=", "netns="):
        assert protection in lines[0]
