"""PAdES signatures on every printed PDF with the center's certificate (pyHanko): receipts and list prints alike.

Production configures GJJ_SIGNING_CERT and GJJ_SIGNING_KEY (PEM paths; GJJ_SIGNING_KEY_PASSWORD
when the key is encrypted). Without them a development or test run makes a self-signed
certificate once under var/signing/, so demos and tests sign like production does.
"""

import asyncio
import datetime
import hashlib
import io
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

SIGNING_DIR = Path(settings.BASE_DIR) / "var" / "signing"
_lock = threading.Lock()


def _self_signed(cert_path: Path, key_path: Path, common_name: str) -> None:
    """A demo certificate for the center: EC P-256, ten years, written once."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, common_name),
        x509.NameAttribute(NameOID.COMMON_NAME, f"{common_name}（演示证书）"),
    ])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def signing_paths() -> tuple[Path, Path]:
    cert, key = os.environ.get("GJJ_SIGNING_CERT"), os.environ.get("GJJ_SIGNING_KEY")
    if cert and key:
        return Path(cert), Path(key)
    if not (settings.DEBUG or getattr(settings, "TESTING", False)):
        raise ImproperlyConfigured("生产环境须配置 GJJ_SIGNING_CERT 与 GJJ_SIGNING_KEY（中心签章证书与私钥）。")
    cert_path, key_path = SIGNING_DIR / "center-cert.pem", SIGNING_DIR / "center-key.pem"
    with _lock:
        if not (cert_path.exists() and key_path.exists()):
            _self_signed(cert_path, key_path, "鄂尔多斯市住房公积金中心")
    return cert_path, key_path


@dataclass(frozen=True)
class _Loaded:
    """The center's signer as parsed once, the files it came from (path, mtime, size) and the room its signature needs."""

    source: tuple
    signer: signers.SimpleSigner
    bytes_reserved: int


_loaded: _Loaded | None = None


def _source() -> tuple:
    """What the signer is loaded from: both files' path, mtime and size, and the key's password. A rotated key or
    certificate (a new file, or the old one rewritten) changes it, and the next document loads the new one."""
    cert_path, key_path = signing_paths()
    cert_stat, key_stat = cert_path.stat(), key_path.stat()
    return (str(cert_path), cert_stat.st_mtime_ns, cert_stat.st_size, str(key_path), key_stat.st_mtime_ns, key_stat.st_size,
            os.environ.get("GJJ_SIGNING_KEY_PASSWORD"))


def _signer_load(cert_path: Path, key_path: Path, password: str | None) -> signers.SimpleSigner:
    """Parse the center's key and certificate (PEM) into a pyHanko signer."""
    key = serialization.load_pem_private_key(key_path.read_bytes(), password=password.encode() if password else None)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        ),
        cert_registry=None,
    )


def _bytes_reserved(signer: signers.SimpleSigner) -> int:
    """Room for the CMS signature in the PDF (hex, so twice its bytes), measured once on a dummy signature with the
    same 50 % margin pyHanko adds: left to pyHanko, every document would be signed twice, once only to measure.
    Without a timestamp or revocation data the container's size does not depend on the document."""
    dummy = asyncio.run(signer.async_sign(
        hashlib.sha256(b"").digest(), "sha256", dry_run=True, use_pades=True,
        signed_attr_settings=PdfCMSSignedAttributes(signing_time=datetime.datetime.now(datetime.UTC)),
    ))
    size = len(dummy.dump()) * 2
    return size + 2 * (size // 4)


def _loaded_signer() -> _Loaded:
    """The signer, parsed once per process and again only when the key or certificate files change."""
    global _loaded
    source = _source()
    loaded = _loaded
    if loaded is not None and loaded.source == source:
        return loaded
    with _lock:
        if _loaded is None or _loaded.source != source:
            signer = _signer_load(Path(source[0]), Path(source[3]), source[6])
            _loaded = _Loaded(source=source, signer=signer, bytes_reserved=_bytes_reserved(signer))
        return _loaded


def _signer() -> signers.SimpleSigner:
    return _loaded_signer().signer


def signing_certificate() -> asn1_x509.Certificate:
    return _signer().signing_cert


def pdf_sign(pdf: bytes, *, reason: str = "住房公积金中心电子签章") -> bytes:
    """Sign a PDF (PAdES baseline B) with the center's key."""
    loaded = _loaded_signer()
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    meta = signers.PdfSignatureMetadata(
        field_name="CenterSeal", reason=reason, location="鄂尔多斯", subfilter=SigSeedSubFilter.PADES, md_algorithm="sha256",
    )
    out = io.BytesIO()
    signers.sign_pdf(writer, meta, signer=loaded.signer, output=out, bytes_reserved=loaded.bytes_reserved)
    return out.getvalue()


def pdf_verify(pdf: bytes) -> bool:
    """True when the PDF has a signature by the center's certificate that is intact and covers the whole file."""
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        if not reader.embedded_signatures:
            return False
        context = ValidationContext(trust_roots=[signing_certificate()], allow_fetching=False)
        status = validate_pdf_signature(reader.embedded_signatures[0], context)
        return bool(status.intact and status.valid and status.bottom_line and status.coverage.name == "ENTIRE_FILE")
    except Exception:  # a damaged file is simply not a valid signed document
        return False
