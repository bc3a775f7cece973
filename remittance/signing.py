"""Moved: PAdES signing lives in gjj_portal.printing.signing (every printed document signs there)."""

from gjj_portal.printing.signing import pdf_sign, pdf_verify, signing_certificate, signing_paths  # noqa: F401
