"""SEC-28's row cap: every import holds at most 5,000 rows, except the ones README「安全」 names with a reason."""

from pathlib import Path

from approvals import registry

SEC_28_CAP = 5_000
# 缴存人登记: a large employer's whole staff in one file; 年度基数调整: the whole roster of normal members in one file
EXCEPTIONS = {"member_register": 50_000, "annual_base": 50_000}


def test_every_import_keeps_the_sec_28_cap_or_is_a_documented_exception():
    caps = {b.code: b.row_limit for b in registry.all() if b.importable}
    assert {code: cap for code, cap in caps.items() if cap > SEC_28_CAP} == EXCEPTIONS
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert "5,000 rows" in readme and "缴存人登记 takes 50,000" in readme and "年度基数调整 takes 50,000" in readme
