"""A local RFC 3161 time-stamping authority for tests: HTTP, ``application/timestamp-query``
in, ``application/timestamp-reply`` out, answering with pyHanko's time-stamp token builder
under a throwaway TSA certificate. ``failing`` makes it answer 500, as a TSA outage would."""

import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore


def _tsa_identity():
    now = datetime.now(UTC)
    # pyHanko's token builder signs with RSA only; a TSA's key type is its own business.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Pactra Test TSA")])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(x509.random_serial_number())
                   .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=30))
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
                   .sign(key, hashes.SHA256()))
    der_key = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return (asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER)),
            asn1_keys.PrivateKeyInfo.load(der_key), certificate.public_bytes(serialization.Encoding.PEM))


class LocalTsa:
    def __init__(self) -> None:
        certificate, key, self.certificate_pem = _tsa_identity()
        self.stamper = DummyTimeStamper(certificate, key, SimpleCertificateStore.from_certs([certificate]))
        self.failing = False
        self.requests = 0
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                tsa.requests += 1
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if tsa.failing or self.headers.get("Content-Type") != "application/timestamp-query":
                    self.send_error(500 if tsa.failing else 415)
                    return
                reply = tsa.stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "LocalTsa":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.server.shutdown()
        self.server.server_close()
