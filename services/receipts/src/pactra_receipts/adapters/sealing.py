"""PAdES sealing of ``signed.pdf`` with the platform's sealing certificate (pyHanko).

ECDSA P-256: in pyHanko here it signs about four times faster than RSA-2048. In development
a CA and a sealing certificate are generated (see :func:`generate_development_chain`); in
production a PKCS#12 from ``PACTRA_SEAL_P12`` brings a certificate Adobe trusts.
"""

import functools
import io
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore

SEAL_FIELD = "PactraSeal"
# Room for the CMS signature, the chain and an RFC 3161 token; unused bytes are zeros.
RESERVED_BYTES = 16 * 1024


@dataclass(frozen=True)
class Sealed:
    pdf: bytes
    timestamp: dict[str, str] | None  # {"tsa", "time"} of the RFC 3161 token


def seal_unsealed(pdf: bytes, tsa_url: str | None) -> Sealed:
    """No sealing at all: for tests of the stamping alone."""
    return Sealed(pdf, None)


@dataclass(frozen=True)
class SealingIdentity:
    """The sealing key, its certificate and the chain above it (PEM)."""

    key_pem: bytes
    certificate_pem: bytes
    chain_pem: bytes  # issuers above the sealing certificate, nearest first

    @property
    def published_chain(self) -> bytes:
        return self.certificate_pem + self.chain_pem


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Pactra"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def generate_development_chain(now: datetime | None = None) -> SealingIdentity:
    """A development CA and a document-sealing certificate it issues (not trusted by Adobe)."""
    now = now or datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = _name("Pactra Development Sealing CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                         critical=True)
          .sign(ca_key, hashes.SHA256()))
    seal_key = ec.generate_private_key(ec.SECP256R1())
    seal = (x509.CertificateBuilder().subject_name(_name("Pactra Document Seal"))
            .issuer_name(ca_name).public_key(seal_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1825))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, True, False, False, False, False, False, False, False),
                           critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    return SealingIdentity(
        key_pem=seal_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()),
        certificate_pem=seal.public_bytes(serialization.Encoding.PEM),
        chain_pem=ca.public_bytes(serialization.Encoding.PEM),
    )


def identity_from_p12(data: bytes, password: str | None) -> SealingIdentity:
    """A production sealing identity from a PKCS#12 file (``PACTRA_SEAL_P12``)."""
    key, certificate, chain = pkcs12.load_key_and_certificates(
        data, password.encode() if password else None)
    if key is None or certificate is None:
        raise ValueError("the PKCS#12 file holds no key and certificate")
    return SealingIdentity(
        key_pem=key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()),
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM),
        chain_pem=b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain or ()),
    )


def _asn1_certificates(pem: bytes) -> list[asn1_x509.Certificate]:
    return [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
            for c in x509.load_pem_x509_certificates(pem)] if pem.strip() else []


# Loading the key and building the certificate store is a tenth of a seal; an identity changes
# only at rotation.
@functools.lru_cache(maxsize=8)
def _signer(identity: SealingIdentity) -> signers.SimpleSigner:
    key = serialization.load_pem_private_key(identity.key_pem, password=None)
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    certificate = _asn1_certificates(identity.certificate_pem)[0]
    return signers.SimpleSigner(
        signing_cert=certificate, signing_key=asn1_keys.PrivateKeyInfo.load(der),
        cert_registry=SimpleCertificateStore.from_certs(_asn1_certificates(identity.chain_pem)))


def seal(pdf: bytes, identity: SealingIdentity, *, tsa_url: str | None = None,
         tsa_timeout: float = 10.0, reason: str = "Sealed by Pactra after every party acted") -> bytes:
    """``pdf`` with one PAdES signature over the whole file (and an RFC 3161 timestamp when a
    TSA is given; its failure raises, so the caller decides whether to retry)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD, md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason, name="Pactra")
    timestamper = HTTPTimeStamper(tsa_url, timeout=tsa_timeout) if tsa_url else None
    output = signers.sign_pdf(writer, metadata, signer=_signer(identity), timestamper=timestamper,
                              bytes_reserved=RESERVED_BYTES)
    return output.getvalue()


def timestamp_time(sealed: bytes) -> datetime | None:
    """The RFC 3161 time of the seal's signature timestamp token, if it carries one."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    signature = PdfFileReader(io.BytesIO(sealed), strict=False).embedded_signatures[-1]
    for attribute in signature.signer_info["unsigned_attrs"]:
        if attribute["type"].native == "signature_time_stamp_token":
            token = attribute["values"][0]
            return token["content"]["encap_content_info"]["content"].parsed["gen_time"].native
    return None


def is_tsa_failure(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) is the TSA failing, rather than the PDF or the key."""
    from pyhanko.sign.timestamps import TimestampRequestError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, TimestampRequestError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False
