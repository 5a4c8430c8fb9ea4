"""Signing and checking internal calls: each service signs with its own Ed25519 key."""

import hashlib
import time

import pytest

from pactra_platform import internal_auth
from pactra_platform.settings import Settings

KEYS = {service: internal_auth.generate_key() for service in ("gateway", "documents", "signing")}
GATEWAY = internal_auth.Signer("gateway", internal_auth.load_private_key(KEYS["gateway"]))
PUBLIC = {service: internal_auth.load_private_key(key).public_key() for service, key in KEYS.items()}
VERIFIER = internal_auth.Verifier("documents", PUBLIC)
IDENTITY = {internal_auth.WORKSPACE: "ws_1", internal_auth.REQUEST_ID: "req_1"}
BODY = hashlib.sha256(b'{"title": "NDA"}').hexdigest()


def test_a_signed_request_verifies():
    headers = GATEWAY.sign("documents", "GET", "/v1/documents?limit=5", IDENTITY, now=1000)
    signed = VERIFIER.verify("get", "/v1/documents?limit=5", headers, now=1030)
    assert signed is not None
    assert signed.calling_service == "gateway" and signed.timestamp == 1000
    assert signed.body_sha256 == internal_auth.EMPTY_SHA256
    assert signed.nonce == headers[internal_auth.NONCE]
    assert headers[internal_auth.CALLER] == "gateway"


def test_every_call_gets_its_own_nonce():
    first = GATEWAY.sign("documents", "GET", "/x", IDENTITY, now=1000)
    second = GATEWAY.sign("documents", "GET", "/x", IDENTITY, now=1000)
    assert first[internal_auth.NONCE] != second[internal_auth.NONCE]


def test_any_change_breaks_the_signature():
    headers = GATEWAY.sign("documents", "POST", "/v1/documents", IDENTITY, BODY, now=1000)
    assert VERIFIER.verify("POST", "/v1/documents", headers, now=1000) is not None
    assert VERIFIER.verify("DELETE", "/v1/documents", headers, now=1000) is None
    assert VERIFIER.verify("POST", "/v1/documents?x=1", headers, now=1000) is None
    for name in (internal_auth.WORKSPACE, internal_auth.REQUEST_ID):
        tampered = {**headers, name: "someone-else"}
        assert VERIFIER.verify("POST", "/v1/documents", tampered, now=1000) is None
    added = {**headers, internal_auth.API_KEY_ID: "key_other"}
    assert VERIFIER.verify("POST", "/v1/documents", added, now=1000) is None
    # Another body's digest, another nonce, another timestamp within the window.
    other_body = {**headers, internal_auth.CONTENT_SHA256: hashlib.sha256(b"{}").hexdigest()}
    assert VERIFIER.verify("POST", "/v1/documents", other_body, now=1000) is None
    other_nonce = {**headers, internal_auth.NONCE: "A" * 22}
    assert VERIFIER.verify("POST", "/v1/documents", other_nonce, now=1000) is None
    other_time = {**headers, internal_auth.TIMESTAMP: "1001"}
    assert VERIFIER.verify("POST", "/v1/documents", other_time, now=1000) is None


def test_a_call_for_one_service_does_not_verify_at_another():
    headers = GATEWAY.sign("documents", "GET", "/v1/documents/doc_1", IDENTITY, now=1000)
    assert internal_auth.Verifier("signing", PUBLIC).verify(
        "GET", "/v1/documents/doc_1", headers, now=1000) is None


def test_one_service_cannot_sign_as_another():
    # The documents service's key, claiming to be the gateway.
    impostor = internal_auth.Signer("gateway", internal_auth.load_private_key(KEYS["documents"]))
    headers = impostor.sign("signing", "GET", "/v1/agreements", IDENTITY, now=1000)
    assert internal_auth.Verifier("signing", PUBLIC).verify("GET", "/v1/agreements", headers,
                                                            now=1000) is None
    # Its own signature, with the caller header rewritten to another service.
    documents = internal_auth.Signer("documents", internal_auth.load_private_key(KEYS["documents"]))
    headers = documents.sign("signing", "GET", "/v1/agreements", IDENTITY, now=1000)
    assert internal_auth.Verifier("signing", PUBLIC).verify("GET", "/v1/agreements", headers,
                                                            now=1000) is not None
    relabelled = {**headers, internal_auth.CALLER: "gateway"}
    assert internal_auth.Verifier("signing", PUBLIC).verify("GET", "/v1/agreements", relabelled,
                                                            now=1000) is None
    # A caller whose public key nobody gave this verifier.
    unknown = internal_auth.Signer("ai", internal_auth.load_private_key(internal_auth.generate_key()))
    headers = unknown.sign("documents", "GET", "/x", IDENTITY, now=1000)
    assert VERIFIER.verify("GET", "/x", headers, now=1000) is None


def test_stale_future_or_malformed_signatures_are_refused():
    headers = GATEWAY.sign("documents", "GET", "/x", IDENTITY, now=1000)
    assert VERIFIER.verify("GET", "/x", headers, now=1060) is not None
    assert VERIFIER.verify("GET", "/x", headers, now=1061) is None
    assert VERIFIER.verify("GET", "/x", headers, now=939) is None
    assert VERIFIER.verify("GET", "/x", {}, now=1000) is None
    for name, value in ((internal_auth.SIGNATURE, "not base64!"), (internal_auth.SIGNATURE, "AAAA"),
                        (internal_auth.NONCE, "short"), (internal_auth.NONCE, "x\ny" * 8),
                        (internal_auth.CONTENT_SHA256, "F" * 64),
                        (internal_auth.TIMESTAMP, "\uff11\uff10\uff10\uff10")):
        assert VERIFIER.verify("GET", "/x", {**headers, name: value}, now=1000) is None


def test_keys_from_settings_private_and_public():
    private = {f"{service}_internal_key": key for service, key in KEYS.items()}
    settings = Settings(**private)
    signer = internal_auth.Signer.for_service(settings, "signing")
    headers = signer.sign("documents", "GET", "/x", IDENTITY)
    assert internal_auth.Verifier.for_service(settings, "documents").verify("GET", "/x", headers)
    # A process with only its own private key learns the others' public keys from the list.
    listed = ",".join(f"{service}={internal_auth.public_key_of(key)}" for service, key in KEYS.items())
    alone = Settings(documents_internal_key=KEYS["documents"], internal_public_keys=listed)
    assert internal_auth.Verifier.for_service(alone, "documents").verify("GET", "/x", headers,
                                                                         now=time.time())
    with pytest.raises(internal_auth.KeyConfigError):
        internal_auth.Signer.for_service(alone, "signing")
    contradicting = f"documents={internal_auth.public_key_of(KEYS['gateway'])}"
    with pytest.raises(internal_auth.KeyConfigError):
        internal_auth.public_keys(Settings(documents_internal_key=KEYS["documents"],
                                           internal_public_keys=contradicting))
    with pytest.raises(internal_auth.KeyConfigError):
        internal_auth.public_keys(Settings(internal_public_keys="mallory=" + "A" * 43))
    with pytest.raises(internal_auth.KeyConfigError):
        internal_auth.load_private_key("too-short")
