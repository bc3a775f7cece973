"""Money rules (SEC-31, STYLE §4): one rounding rule, Decimal only, 人民币大写."""

import random
from datetime import date
from decimal import Decimal, InvalidOperation

import pytest

from gjj_portal.money import (
    FEN,
    YUAN,
    format_period,
    monthly_parts,
    round_money,
    to_chinese_upper,
    to_decimal,
)


def test_constants_are_fen_and_yuan():
    assert (FEN, YUAN) == (Decimal("0.01"), Decimal("1"))


def test_twelve_percent_of_5432_10_rounds_to_651_85_fen():
    """SEC-31 向量：5432.10 × 12% → 651.85"""
    assert round_money(Decimal("5432.10") * Decimal("0.1200")) == Decimal("651.85")


def test_half_fen_rounds_up_not_to_even():
    """SEC-31 向量：1234.50 × 5% = 61.725 → 61.73（四舍五入，不是银行家舍入）"""
    assert Decimal("1234.50") * Decimal("0.05") == Decimal("61.725")
    assert round_money(Decimal("1234.50") * Decimal("0.05"), "fen") == Decimal("61.73")


def test_negative_half_fen_rounds_away_from_zero():
    assert round_money(Decimal("-61.725")) == Decimal("-61.73")


def test_yuan_unit_rounds_to_whole_yuan_with_two_places():
    result = round_money(Decimal("32592") * Decimal("0.12"), "yuan")
    assert result == Decimal("3911.00")
    assert str(result) == "3911.00"


def test_yuan_unit_rounds_half_yuan_up():
    assert round_money(Decimal("10.50"), "yuan") == Decimal("11.00")
    assert round_money(Decimal("10.49"), "yuan") == Decimal("10.00")


def test_monthly_parts_round_each_part_to_yuan_separately():
    """条例 第16条：单位和个人部分各自取整，合计为两部分之和。"""
    employer_part, member_part = monthly_parts(
        base=Decimal("32592"), employer_rate=Decimal("0.1200"), member_rate=Decimal("0.1200"), unit="yuan"
    )
    assert (employer_part, member_part) == (Decimal("3911.00"), Decimal("3911.00"))
    assert employer_part + member_part == Decimal("7822.00")


def test_monthly_parts_round_each_part_to_fen_separately():
    employer_part, member_part = monthly_parts(
        base=Decimal("1234.50"), employer_rate=Decimal("0.0500"), member_rate=Decimal("0.0700"), unit="fen"
    )
    assert (employer_part, member_part) == (Decimal("61.73"), Decimal("86.42"))


def test_round_money_rejects_float():
    with pytest.raises(TypeError):
        round_money(651.85)


def test_monthly_parts_reject_float_base():
    with pytest.raises(TypeError):
        monthly_parts(base=5432.1, employer_rate=Decimal("0.12"), member_rate=Decimal("0.12"), unit="fen")


def test_round_money_rejects_unknown_unit():
    with pytest.raises(ValueError):
        round_money(Decimal("1.00"), "jiao")


@pytest.mark.parametrize(
    ("value", "unit"),
    [(Decimal("652"), "fen"), (Decimal("652"), "yuan"), (Decimal("0.1"), "fen"), (Decimal("1E+3"), "yuan"), (7, "fen")],
)
def test_every_rounded_amount_has_exponent_minus_two(value, unit):
    assert round_money(value, unit).as_tuple().exponent == -2


def _reference_part_in_fen(base_fen: int, rate_bp: int, unit: str) -> int:
    """Independent integer oracle: base in 分 × rate in 万分之一, rounded half up."""
    micro_yuan = base_fen * rate_bp  # units of 0.000001 元
    if unit == "fen":
        return (micro_yuan + 5_000) // 10_000
    return (micro_yuan + 500_000) // 1_000_000 * 100


@pytest.mark.parametrize("unit", ["fen", "yuan"])
def test_random_batches_have_two_place_parts_and_total_equals_sum_of_parts(unit):
    """SEC-31 性质：每个金额指数为 −2，汇缴合计 == Σ(单位部分 + 个人部分)。"""
    rng = random.Random(20260101)
    for _ in range(40):
        lines = []
        for _ in range(rng.randint(1, 12)):
            base_fen, employer_bp, member_bp = rng.randint(0, 5_000_000), rng.randint(500, 1200), rng.randint(500, 1200)
            base, employer_rate, member_rate = (
                Decimal(base_fen) / 100,
                Decimal(employer_bp) / 10_000,
                Decimal(member_bp) / 10_000,
            )
            parts = monthly_parts(base=base, employer_rate=employer_rate, member_rate=member_rate, unit=unit)
            assert [part.as_tuple().exponent for part in parts] == [-2, -2]
            assert parts == (
                Decimal(_reference_part_in_fen(base_fen, employer_bp, unit)) / 100,
                Decimal(_reference_part_in_fen(base_fen, member_bp, unit)) / 100,
            )
            lines.append(parts)
        total = sum((employer + member for employer, member in lines), Decimal("0.00"))
        assert total.as_tuple().exponent == -2
        assert total == sum(e for e, _ in lines) + sum(m for _, m in lines)


def test_to_decimal_accepts_decimal_int_and_plain_string():
    assert to_decimal(Decimal("1.50")) == Decimal("1.50")
    assert to_decimal(12) == Decimal("12")
    assert to_decimal("6000.00") == Decimal("6000.00")


def test_to_decimal_strips_spaces_and_thousands_separators():
    assert to_decimal(" 1,234,567.89 ") == Decimal("1234567.89")
    assert to_decimal("1，234.50") == Decimal("1234.50")


def test_to_decimal_normalises_full_width_digits():
    assert to_decimal("１２，３４５．６７") == Decimal("12345.67")


@pytest.mark.parametrize("value", [1.5, True])
def test_to_decimal_rejects_float_and_bool(value):
    with pytest.raises(TypeError):
        to_decimal(value)


@pytest.mark.parametrize("junk", ["", "abc", "12元", "1.2.3", "NaN", "Infinity", "1e3", "--1"])
def test_to_decimal_rejects_junk_with_chinese_message(junk):
    with pytest.raises(ValueError, match="金额格式不正确") as excinfo:
        to_decimal(junk)
    assert not isinstance(excinfo.value, InvalidOperation)
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__suppress_context__ or excinfo.value.__context__ is None


@pytest.mark.parametrize(
    ("amount", "upper"),
    [
        ("12345.67", "壹万贰仟叁佰肆拾伍元陆角柒分"),
        ("100", "壹佰元整"),
        ("0", "零元整"),
        ("0.00", "零元整"),
        ("10.00", "壹拾元整"),
        ("7822", "柒仟捌佰贰拾贰元整"),
        ("0.05", "伍分"),
        ("0.50", "伍角整"),
    ],
)
def test_upper_case_amount_basic_vectors(amount, upper):
    assert to_chinese_upper(Decimal(amount)) == upper


def test_upper_case_writes_ling_for_missing_jiao_before_fen():
    assert to_chinese_upper(Decimal("1001.01")) == "壹仟零壹元零壹分"


def test_upper_case_adds_zheng_when_there_is_no_fen():
    assert to_chinese_upper(Decimal("1001.10")) == "壹仟零壹元壹角整"


def test_upper_case_omits_ling_between_zero_yuan_digit_and_jiao():
    assert to_chinese_upper(Decimal("100000.50")) == "壹拾万元伍角整"


def test_upper_case_writes_one_ling_for_zeros_after_wan():
    assert to_chinese_upper(Decimal("100010")) == "壹拾万零壹拾元整"


def test_upper_case_writes_ling_for_an_empty_wan_group():
    assert to_chinese_upper(Decimal("100001000")) == "壹亿零壹仟元整"
    assert to_chinese_upper(Decimal("203000000")) == "贰亿零叁佰万元整"


def test_upper_case_hundred_million_is_yi():
    assert to_chinese_upper(Decimal("100000000")) == "壹亿元整"


def test_upper_case_supports_up_to_9999_yi():
    assert to_chinese_upper(Decimal("999999999999.99")) == "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"
    with pytest.raises(ValueError):
        to_chinese_upper(Decimal("1000000000000"))


def test_upper_case_prefixes_negative_amounts_with_fu():
    assert to_chinese_upper(Decimal("-12345.67")) == "负壹万贰仟叁佰肆拾伍元陆角柒分"


def test_upper_case_refuses_sub_fen_amounts_and_floats():
    with pytest.raises(ValueError):
        to_chinese_upper(Decimal("1.005"))
    with pytest.raises(TypeError):
        to_chinese_upper(1.5)


def test_period_is_shown_as_year_and_two_digit_month():
    assert format_period(date(2026, 1, 1)) == "2026年01月"
    assert format_period(date(2025, 12, 1)) == "2025年12月"


def test_no_code_makes_a_float_or_a_decimal_from_one():
    """SEC-31: money never passes through a float. float(…) and Decimal(<float literal>) in the apps fail here.
    (Float literals elsewhere are drawing geometry of the PDFs, and Excel's own cell values, which
    approvals.excel turns into text before any rule reads them.)"""
    import ast
    from pathlib import Path

    from django.conf import settings

    offenders = []
    for app in ("employers", "members", "approvals", "remittance", "gjj_portal"):
        for path in (Path(settings.BASE_DIR) / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                if name == "float":
                    offenders.append(f"{path.name}:{node.lineno} float(")
                if name == "Decimal" and node.args and isinstance(node.args[0], ast.Constant) and type(node.args[0].value) is float:
                    offenders.append(f"{path.name}:{node.lineno} Decimal(float)")
    assert offenders == []


def test_a_raw_sum_becomes_money_with_two_places_whatever_the_driver_returned():
    from gjj_portal.money import money_from_sum

    assert money_from_sum(None) == Decimal("0.00") and str(money_from_sum(None)) == "0.00"
    assert str(money_from_sum(Decimal("1234.5"))) == "1234.50"  # PostgreSQL
    assert str(money_from_sum(300)) == "300.00"  # SQLite: whole yuan
    assert str(money_from_sum(0.1 + 0.2)) == "0.30"  # SQLite: a float sum of 0.10 and 0.20
    assert str(money_from_sum(sum([1234567.89] * 3))) == "3703703.67"
    assert str(money_from_sum(Decimal("-0.00"))) == "0.00"
