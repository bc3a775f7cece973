"""SEC-41: the PIPL documents exist — processing rules, PIPIA (Art. 55), retention schedule and breach runbook (Art. 57).

Plain file checks, no database."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRIVACY = ROOT / "docs" / "privacy"
DOCUMENTS = ("notice.md", "pipia.md", "retention.md", "breach-runbook.md")
MIN_CHARS = 500


def test_every_privacy_document_exists_and_has_content():
    for name in DOCUMENTS:
        path = PRIVACY / name
        assert path.is_file(), f"missing {path.relative_to(ROOT)}"
        assert len(path.read_text(encoding="utf-8").strip()) > MIN_CHARS, f"{name} is too short"


def test_retention_schedule_names_the_import_purge_and_its_setting():
    text = (PRIVACY / "retention.md").read_text(encoding="utf-8")
    assert "purge_import_files" in text
    assert "GJJ_IMPORT_KEEP_DAYS" in text
