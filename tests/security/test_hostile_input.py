"""Hostile text and numbers on 录入清册 and in imports (issue 15 items 3 and 4).

Names and other free text hold what GB 18030 names can hold, NFKC-normalised; control, format (bidi,
zero-width), private-use and surrogate characters and emoji are refused with the field named. Every
numeric cell is bounded before Decimal arithmetic; NaN, Infinity, 1e309, -0, 15-digit amounts, full-width
and Arabic-Indic digits give a Chinese message naming the row and cell, or a correct repair. An export
never crashes on a stored string."""

import importlib
import io
from datetime import date
from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.urls import reverse
from openpyxl import load_workbook

from approvals import rows
from approvals.models import BatchImport
from approvals.services import batch_import_check
from gjj_portal.excel import Col, Sheet, write_workbook
from members.models import Member
from tests.factories import make_member
from tests.members.factories import make_batch, register_file, register_row

pytestmark = pytest.mark.django_db
HX = {"HX-Request": "true"}

HOSTILE_NAMES = {
    "escape": "张\x1b[31m三",
    "rtl-override": "张\u202e三",
    "zero-width-only": "\u200b",
    "emoji": "张三😀",
    "private-use": "张\ue000三",
    "zero-width-joiner": "张\u200d三",
    "bom": "\ufeff张三",
    "digits": "张三1",
}


def _line_add(client, batch, **row):
    return client.post(reverse("approvals:batch-line-add", args=[batch.pk]), register_row(**row), headers=HX)


def _check(agent, row_list) -> BatchImport:
    return batch_import_check(employer=agent.employer, agent=agent, business_code="member_register", file_name="f.xlsx",
                              content=register_file(row_list))


def _as_cell(value: str) -> str:
    """How Excel itself stores a control character in a cell (openpyxl reads _x001B_ back as ESC)."""
    return "".join(f"_x{ord(ch):04X}_" if ord(ch) < 0x20 else ch for ch in value)


# ------------------------------------------------------------------ item 3: names and free text


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_a_hostile_name_is_refused_on_line_entry(agent_client, agent, name):
    batch = make_batch(agent, rows=[register_row()])
    response = _line_add(agent_client, batch, name=name)
    body = response.content.decode()
    assert response.status_code == 200 and "姓名" in body and "HX-Trigger" not in response.headers
    assert batch.lines.count() == 1


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_a_hostile_name_is_refused_in_an_import_with_the_row_and_cell_named(agent, name):
    record = _check(agent, [register_row(), register_row(name=_as_cell(name))])
    assert [(e["row"], e["column"]) for e in record.errors] == [(3, "姓名")]
    assert "姓名" in record.errors[0]["message"]


@pytest.mark.parametrize("value,reason", [
    ("张\x1b三", "U+001B"), ("张\u202e三", "U+202E"), ("\u200b", "U+200B"), ("张三😀", "U+1F600"), ("张\ue000三", "U+E000"),
])
def test_the_message_names_the_field_and_the_character(value, reason):
    with pytest.raises(ValueError) as refused:
        rows.person_name(value, label="姓名")
    assert str(refused.value).startswith("姓名") and reason in str(refused.value)


@pytest.mark.parametrize("value,stored", [
    ("ＺＨＡＮＧ　Ｓａｎ", "ZHANG San"),            # full-width letters and space: NFKC
    ("阿卜杜拉・买买提", "阿卜杜拉·买买提"),          # katakana middle dot → the GB 18030 middle dot ·
    ("阿卜杜拉•买买提", "阿卜杜拉·买买提"),
    ("  张三  ", "张三"),
    ("José  Müller", "José Müller"),
    ("𠀾三", "𠀾三"),                                 # CJK extension B, held by GB 18030
    ("⼈三", "人三"),                                 # a Kangxi radical is the ideograph after NFKC
])
def test_a_name_is_normalised_before_it_is_stored(agent, value, stored):
    batch = make_batch(agent, rows=[register_row(name=value)])
    assert batch.lines.get().data["name"] == stored


@pytest.mark.parametrize("value", ["·张三", "张三·", "张··三", "张三!", "张三<", "John_Smith", "١٢٣"])
def test_a_name_holds_only_cjk_the_middle_dot_latin_letters_and_inner_spaces(value):
    with pytest.raises(ValueError, match="^姓名"):
        rows.person_name(value, label="姓名")


@pytest.mark.parametrize("value", ["备注\x1b", "备注\u202e", "\u200b", "备注😀", "备注\ue000", "备注\ud800", "备注\u2066"])
def test_every_free_text_refuses_control_format_private_use_surrogate_and_emoji(value):
    with pytest.raises(ValueError, match="^备注"):
        rows.text(value, max_length=50, label="备注")
    with pytest.raises(ValueError, match="^备注"):
        rows.free_text(value, max_length=50, label="备注")


def test_free_text_keeps_ordinary_punctuation_and_collapses_whitespace():
    assert rows.text("内蒙古 鄂尔多斯市（东胜区）\t 1号-2#", max_length=50, label="地址") == "内蒙古 鄂尔多斯市(东胜区) 1号-2#"


def test_the_export_of_a_stored_bad_name_works(agent_client, agent):
    """A name stored before the rule (or by any other path) never makes the export answer 500."""
    member = make_member(agent.employer)
    Member.objects.filter(pk=member.pk).update(name="张\x1b三\x07")
    other = make_member(agent.employer)
    Member.objects.filter(pk=other.pk).update(name="李\u202e四")
    response = agent_client.get(reverse("members:query-export"))
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.getvalue()), read_only=True).worksheets[0]
    values = {cell for row in sheet.iter_rows(values_only=True) for cell in row if isinstance(cell, str)}
    assert "张三" in values and "李\u202e四" in values, values


def test_the_safe_writer_never_crashes_on_a_string():
    hostile = ["a\x00b", "a\x1bb", "a\x0bb", "a\ud800b", "=1+1\x07", "a\u202eb", "x" * 40000]
    content = write_workbook([Sheet("s\x1b", [Col("名\x1b称")], [[value] for value in hostile])])
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    cells = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert cells[:6] == ["ab", "ab", "ab", "a\ufffdb", "=1+1", "a\u202eb"]
    assert sheet.cell(1, 1).value == "名称" and sheet.cell(7, 1).data_type == "s" and len(cells[6]) == 32767


def test_the_data_migration_repairs_stored_names(employer):
    good = make_member(employer, name="王五")
    bad = {make_member(employer).pk: value for value in ["张\x1b三", "\u200b", "ＺＨＡＮＧ", "李四😀", "赵\u202e六"]}
    for pk, value in bad.items():
        Member.objects.filter(pk=pk).update(name=value)
    migration = importlib.import_module("members.migrations.0010_names_repaired")
    migration.repair_names(django_apps, None)
    names = dict(Member.objects.filter(pk__in=bad).values_list("pk", "name"))
    assert [names[pk] for pk in bad] == ["张三", "（姓名待更正）", "ZHANG", "李四", "赵六"]
    good.refresh_from_db()
    assert good.name == "王五"


# ------------------------------------------------------------------ item 4: numbers


@pytest.mark.parametrize("value", ["1e309", "NaN", "Infinity", "-Infinity", "sNaN", "1" * 5000, "1e-400", "12" + "0" * 400 + "%", "-12%"])
def test_a_hostile_rate_is_a_chinese_message(value):
    with pytest.raises(ValueError, match="^单位缴存比例"):
        rows.rate(value, label="单位缴存比例")


@pytest.mark.parametrize("value,expected", [
    ("１２％", Decimal("0.1200")), ("١٢%", Decimal("0.1200")), ("۱۲", Decimal("0.1200")), ("0.12", Decimal("0.1200")),
])
def test_rates_in_other_digits_are_repaired(value, expected):
    rate, notice = rows.rate(value, label="单位缴存比例")
    assert rate == expected and "12%" in notice


def test_a_negative_zero_rate_is_zero():
    rate, _ = rows.rate("-0", label="单位缴存比例")
    assert rate == 0 and not rate.is_signed()


@pytest.mark.parametrize("value", ["1e309", "NaN", "Infinity", "sNaN", "100000000000000", "1000000000000", "1" * 5000, "6000e2", "-1"])
def test_a_hostile_amount_is_a_chinese_message(value):
    with pytest.raises(ValueError, match="^缴存基数"):
        rows.money(value, label="缴存基数")


@pytest.mark.parametrize("value,expected", [
    ("999999999999.99", Decimal("999999999999.99")), ("６０００", Decimal("6000.00")), ("٦٠٠٠", Decimal("6000.00")),
    ("6,000.5", Decimal("6000.50")),
])
def test_amounts_up_to_14_digits_and_in_other_digits_are_read(value, expected):
    assert rows.money(value, label="缴存基数")[0] == expected


def test_a_negative_zero_amount_is_zero():
    amount, _ = rows.money("-0", label="缴存基数")
    assert amount == 0 and not amount.is_signed() and str(amount) == "0.00"


@pytest.mark.parametrize("value", ["1e309", "NaN", "9" * 5000, "2026-13", "0000-01"])
def test_a_hostile_month_is_a_chinese_message(value):
    with pytest.raises(ValueError, match="^起缴年月"):
        rows.period(value, label="起缴年月")


def test_a_month_in_arabic_indic_digits_is_read():
    assert rows.period("٢٠٢٦-٠١", label="起缴年月")[0] == date(2026, 1, 1)


@pytest.mark.parametrize("field,value,column", [
    ("employer_rate", "1e309", "单位缴存比例"), ("member_rate", "NaN", "个人缴存比例"), ("base", "100000000000000", "缴存基数"),
    ("base", "1e309", "缴存基数"), ("start_period", "1e309", "起缴年月"),
])
def test_a_hostile_number_on_line_entry_is_a_form_error_not_a_500(agent_client, agent, field, value, column):
    batch = make_batch(agent, rows=[register_row()])
    response = _line_add(agent_client, batch, **{field: value})
    assert response.status_code == 200 and column in response.content.decode()
    assert batch.lines.count() == 1


@pytest.mark.parametrize("field,value,column", [
    ("employer_rate", "1e309", "单位缴存比例"), ("member_rate", "Infinity", "个人缴存比例"), ("base", "100000000000000", "缴存基数"),
    ("base", "1e309", "缴存基数"), ("start_period", "1e309", "起缴年月"),
])
def test_a_hostile_number_in_an_import_names_its_row_and_cell(agent, field, value, column):
    record = _check(agent, [register_row(), register_row(**{field: value})])
    assert record.errors and all(e["row"] == 3 and e["column"] == column for e in record.errors)
    assert "文件校验未能完成" not in str(record.errors)
