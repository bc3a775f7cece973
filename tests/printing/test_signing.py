"""The center's signer is parsed once per process and again only when its key or certificate changes (issue 18 item 6);
every document is still signed (PAdES) once, and validates."""

import io
import os

import pytest
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers

from employers.models import Center
from gjj_portal.printing import documents, services, signing
from gjj_portal.printing.signing import pdf_verify
from gjj_portal.printing.table import Column

pytestmark = pytest.mark.django_db
BASE = "http://testserver/"


def issue(employer, agent, n: int = 3):
    return services.list_print_issue(
        kind="member_accounts", employer=employer, agent=agent, center=Center.current(),
        columns=[Column("个人账号", 30), Column("姓名", 30)], rows=[[f"2000{i:06d}", f"职工{i}"] for i in range(n)],
    )


@pytest.fixture
def loads(monkeypatch):
    """A process that has not loaded the signer yet, and the number of times it parses the key and certificate."""
    monkeypatch.setattr(signing, "_loaded", None)
    calls = []
    real = signing._signer_load

    def counted(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(signing, "_signer_load", counted)
    return calls


def signer_serial(pdf: bytes) -> int:
    signature = PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures[0]
    return signature.signer_cert.serial_number


def test_two_documents_sign_with_one_load_of_the_key_and_both_validate(employer, agent, loads, monkeypatch):
    sign_calls = []
    real_sign = signers.SimpleSigner.async_sign

    async def counted_sign(self, *args, **kwargs):
        sign_calls.append(kwargs.get("dry_run", False))
        return await real_sign(self, *args, **kwargs)

    first = documents.document_pdf(issue(employer, agent), base_url=BASE)
    monkeypatch.setattr(signers.SimpleSigner, "async_sign", counted_sign)
    second = documents.document_pdf(issue(employer, agent, 40), base_url=BASE)
    assert len(loads) == 1
    assert sign_calls == [False]  # the room for the signature was measured with the load: no dummy signature per document
    assert pdf_verify(first) and pdf_verify(second)
    assert len(loads) == 1


def test_a_rotated_key_is_loaded_for_the_next_document(employer, agent, loads, monkeypatch, tmp_path):
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    signing._self_signed(cert_path, key_path, "旧证书中心")
    monkeypatch.setenv("GJJ_SIGNING_CERT", str(cert_path))
    monkeypatch.setenv("GJJ_SIGNING_KEY", str(key_path))
    old = documents.document_pdf(issue(employer, agent), base_url=BASE)
    documents.document_pdf(issue(employer, agent), base_url=BASE)
    assert len(loads) == 1

    signing._self_signed(cert_path, key_path, "新证书中心")  # rotated in place: the same paths
    later = os.stat(key_path).st_mtime_ns + 1_000_000_000
    os.utime(cert_path, ns=(later, later))  # a rewrite within the file system's clock tick still counts
    os.utime(key_path, ns=(later, later))
    new = documents.document_pdf(issue(employer, agent), base_url=BASE)
    assert len(loads) == 2
    assert signer_serial(new) != signer_serial(old)
    assert signer_serial(new) == signing.signing_certificate().serial_number
    assert pdf_verify(new)
    assert not pdf_verify(old)  # 验真 now trusts the new certificate only
