"""批量导入 files (SEC-28) and the safe export writer (SEC-29)."""

import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from approvals import excel, registry
from approvals.excel import ImportRejected, read_rows
from gjj_portal.excel import Col, Sheet, write_workbook
from tests.factories import valid_id_number
from tests.members.factories import REGISTER_HEADERS, register_file, register_row, xlsx


@pytest.fixture
def columns():
    return registry.get("member_register").columns


def read(content, columns, name="f.xlsx", limit=100):
    return read_rows(content=content, file_name=name, columns=columns, row_limit=limit)


def zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_defusedxml_active():
    import openpyxl.xml

    assert openpyxl.xml.DEFUSEDXML is True


def test_columns_are_mapped_by_header_text_in_any_order(columns):
    number = valid_id_number()
    content = xlsx(["起缴年月", "证件号码", "姓名", "手机号码", "缴存基数", "无关列"], [["2026-01", number, "张三", "13904770001", "6000", "x"]])
    table = read(content, columns)
    assert table.rows == [(2, {"start_period": "2026-01", "id_number": number, "name": "张三", "phone": "13904770001", "base": "6000"})]
    assert table.extra_headers == ["无关列"]


def test_every_value_is_read_as_a_string(columns):
    content = xlsx(REGISTER_HEADERS, [["张三", "", "x", 13904770001, 6000.5, 0.12, 12, "2026-01"]])
    row = read(content, columns).rows[0][1]
    assert (row["phone"], row["base"], row["employer_rate"], row["member_rate"]) == ("13904770001", "6000.5", "0.12", "12")


def test_an_id_stored_as_a_number_comes_out_in_scientific_form(columns):
    content = xlsx(REGISTER_HEADERS, [["张三", "", 150602199005171234, "13904770001", "6000", "", "", "2026-01"]])
    assert "E+17" in read(content, columns).rows[0][1]["id_number"]


def test_missing_required_header_is_rejected(columns):
    with pytest.raises(ImportRejected, match="缺少「证件号码」"):
        read(xlsx(["姓名"], [["张三"]]), columns)


def test_only_xlsx_files_are_accepted(columns):
    with pytest.raises(ImportRejected, match=".xlsx"):
        read(register_file([register_row()]), columns, name="f.xls")


def test_a_file_that_is_not_a_zip_is_rejected(columns):
    with pytest.raises(ImportRejected, match="不是有效的"):
        read(b"hello", columns)


def test_row_limit_is_enforced(columns):
    with pytest.raises(ImportRejected, match="超过 2 行"):
        read(register_file([register_row(), register_row(), register_row()]), columns, limit=2)


def test_empty_rows_are_skipped_and_row_numbers_kept(columns):
    content = xlsx(REGISTER_HEADERS, [["张三"] + [""] * 7, [""] * 8, ["李四"] + [""] * 7])
    assert [n for n, _row in read(content, columns).rows] == [2, 4]


def test_zip_bomb_is_rejected_before_parsing(columns, monkeypatch):
    """A 50 MB sheet1.xml that zips to about 50 KB is refused before any parser sees it."""
    called = []
    monkeypatch.setattr(excel, "_iter_calamine", lambda content: called.append(1))
    monkeypatch.setattr(excel, "_iter_openpyxl", lambda content: called.append(1))
    bomb = zip_of({"[Content_Types].xml": b"<Types/>", "xl/worksheets/sheet1.xml": b" " * (50 * 1024 * 1024)})
    with pytest.raises(ImportRejected, match="压缩"):
        read(bomb, columns)
    assert called == []


def test_too_many_entries_are_rejected(columns):
    content = zip_of({"[Content_Types].xml": b"<Types/>", **{f"xl/p{i}.xml": b"x" for i in range(60)}})
    with pytest.raises(ImportRejected, match="过多"):
        read(content, columns)


@pytest.mark.parametrize("name", ["../evil.xml", "/abs.xml", "xl\\worksheets\\a.xml"])
def test_path_traversal_names_are_rejected(columns, name):
    with pytest.raises(ImportRejected, match="非法路径"):
        read(zip_of({"[Content_Types].xml": b"<Types/>", name: b"x"}), columns)


def test_macro_workbooks_are_rejected(columns):
    with pytest.raises(ImportRejected, match="宏"):
        read(zip_of({"[Content_Types].xml": b"<Types/>", "xl/vbaProject.bin": b"x"}), columns)


def test_unexpected_parts_are_rejected(columns):
    with pytest.raises(ImportRejected, match="不明内容"):
        read(zip_of({"[Content_Types].xml": b"<Types/>", "payload.exe": b"x"}), columns)


def test_billion_laughs_shared_strings_is_a_form_error_not_a_crash(columns):
    content = register_file([register_row()])
    source = zipfile.ZipFile(io.BytesIO(content))
    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
              b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
              b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&lol3;</t></si></sst>')
    entries = {info.filename: source.read(info) for info in source.infolist()}
    entries["xl/sharedStrings.xml"] = laughs
    try:
        table = read(zip_of(entries), columns)
    except ImportRejected:
        return
    assert all("lollollol" not in v for _n, row in table.rows for v in row.values())


def test_a_damaged_sheet_part_is_a_form_error_and_leaves_no_thread_behind(columns):
    """The formula scan runs in a thread beside calamine: a sheet whose data fails its CRC is refused
    with the reader's message, and the thread is gone (the check forks only a single-threaded process;
    other tests may leave threads of their own, so only the scan's is looked for)."""
    import threading

    content = register_file([register_row()])
    source = zipfile.ZipFile(io.BytesIO(content))
    info = source.getinfo("xl/worksheets/sheet1.xml")
    damaged = bytearray(content)
    offset = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)  # the entry's data
    damaged[offset + info.compress_size // 2] ^= 0xFF
    with pytest.raises(ImportRejected, match="无法解析"):
        read(bytes(damaged), columns)
    assert not [thread for thread in threading.enumerate() if thread.name == "xlsx-formula-scan"]


def test_a_sheet_with_formulas_is_read_by_openpyxl(columns, monkeypatch):
    calamine = []
    monkeypatch.setattr(excel, "_iter_calamine", lambda content: calamine.append(1) or iter(()))
    content = register_file([register_row(name="=1+1")])
    table = read(content, columns)
    assert table.rows[0][1]["name"] == "=1+1"


def test_formula_cells_reach_the_row_rules_as_formulas_and_are_refused(agent):
    from approvals.services import batch_import_check

    row = register_row(name='=HYPERLINK("http://x","y")')
    record = batch_import_check(employer=agent.employer, agent=agent, business_code="member_register", file_name="f.xlsx",
                                content=register_file([row]))
    assert record.errors[0]["column"] == "姓名" and "公式" in record.errors[0]["message"]


def test_template_has_headers_text_columns_example_and_notes():
    content = excel.template_workbook(registry.get("member_register"))
    wb = load_workbook(io.BytesIO(content))
    sheet = wb["清册"]
    assert [c.value for c in sheet[1]][:3] == ["姓名*", "证件类型", "证件号码*"]
    assert sheet["C2"].number_format == "@" and sheet["C300"].number_format == "@"
    assert sheet["C2"].value == "11010519491231002X"
    assert "填写说明" in wb.sheetnames


def test_template_round_trips_through_the_reader(columns):
    content = excel.template_workbook(registry.get("member_register"))
    assert read(content, columns).rows[0][1]["id_number"] == "11010519491231002X"


def test_error_workbook_writes_the_reason_beside_the_bad_row(columns):
    content = register_file([register_row(), register_row(base="100")])
    errors = [{"row": 3, "column": "缴存基数", "message": "缴存基数不能低于1,980.00元"}]
    wb = load_workbook(io.BytesIO(excel.error_workbook(content=content, file_name="f.xlsx", columns=columns, errors=errors, row_limit=10)))
    ws = wb.active
    assert ws.cell(1, 9).value == "错误说明" and ws.cell(3, 9).value == "「缴存基数」：缴存基数不能低于1,980.00元" and not ws.cell(2, 9).value


def test_error_workbook_can_be_uploaded_again(columns):
    content = register_file([register_row()])
    back = excel.error_workbook(content=content, file_name="f.xlsx", columns=columns, errors=[], row_limit=10)
    assert len(read(back, columns).rows) == 1


# ---- the safe writer (SEC-29) ----------------------------------------------------------------------


def test_export_never_writes_formulas_and_keeps_money_numeric():
    content = write_workbook([Sheet("s", [Col("姓名"), Col("证件号码", "id"), Col("金额", "money")],
                                    [['=HYPERLINK("http://x","y")', "110105194912310021", Decimal("1234.50")], ["@SUM(1)", "", Decimal("0")]])])
    sheet_xml = zipfile.ZipFile(io.BytesIO(content)).read("xl/worksheets/sheet1.xml")
    assert b"<f>" not in sheet_xml and b"inlineStr" in sheet_xml
    ws = load_workbook(io.BytesIO(content)).active
    assert ws["A2"].value == '=HYPERLINK("http://x","y")' and ws["A2"].data_type == "s"
    assert ws["B2"].value == "110105********0021"
    assert ws["C2"].data_type == "n" and ws["C2"].number_format == "#,##0.00"
