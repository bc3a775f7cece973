"""The national code lists: unique codes and labels, the standards' codes, and the look-up helpers."""

import pytest

from gjj_portal import codes

LISTS = list(codes.ALL_LISTS.items())


@pytest.mark.parametrize(("name", "items"), LISTS, ids=[name for name, _ in LISTS])
def test_codes_and_labels_are_unique_and_non_empty(name, items):
    code_values = [code for code, _ in items]
    labels = [label for _, label in items]
    assert all(code and code == code.strip() for code in code_values)
    assert all(label and label == label.strip() for label in labels)
    assert len(set(code_values)) == len(code_values), name
    assert len(set(labels)) == len(labels), name


@pytest.mark.parametrize(("name", "items"), LISTS, ids=[name for name, _ in LISTS])
def test_every_code_is_found_and_has_its_label(name, items):
    for code, label in items:
        assert codes.has_code(items, code)
        assert codes.label_of(items, code) == label


def test_education_is_the_gb_t_4658_top_level():
    assert [code for code, _ in codes.EDUCATION] == ["10", "20", "30", "40", "60", "70", "80", "90"]
    assert codes.label_of(codes.EDUCATION, "20") == "大学本科教育"
    assert codes.label_of(codes.EDUCATION, "60") == "普通高级中学教育"


def test_marital_status_is_gb_t_2261_2():
    assert dict(codes.MARITAL_STATUS) == {
        "10": "未婚", "20": "已婚", "21": "初婚", "22": "再婚", "23": "复婚", "30": "丧偶", "40": "离婚", "90": "未说明的婚姻状况",
    }


def test_title_levels():
    assert [label for _, label in codes.TITLE] == ["正高级", "副高级", "中级", "初级", "无"]


def test_occupation_has_the_eight_major_groups_of_2015():
    assert len(codes.OCCUPATION) == 8
    assert codes.label_of(codes.OCCUPATION, "2") == "专业技术人员"
    assert codes.label_of(codes.OCCUPATION, "7") == "军人"


def test_economic_type_levels_nest_under_their_parent():
    """GB/T 12402: 大类 x00, 中类 xx0 under its 大类, 小类 under its 中类."""
    assert {"100", "200", "300"} <= {code for code, _ in codes.ECONOMIC_TYPE}
    assert codes.label_of(codes.ECONOMIC_TYPE, "110") == "国有全资"
    assert codes.label_of(codes.ECONOMIC_TYPE, "310") == "中外合资"
    for code, _ in codes.ECONOMIC_TYPE:
        assert len(code) == 3 and code.isdigit()
        if code.endswith("00"):
            continue
        assert codes.has_code(codes.ECONOMIC_TYPE, code[0] + "00"), code
        if not code.endswith("0"):
            assert codes.has_code(codes.ECONOMIC_TYPE, code[:2] + "0"), code


def test_industry_is_the_twenty_sections_a_to_t():
    assert [code for code, _ in codes.INDUSTRY] == list("ABCDEFGHIJKLMNOPQRST")
    assert codes.label_of(codes.INDUSTRY, "I") == "信息传输、软件和信息技术服务业"
    assert codes.label_of(codes.INDUSTRY, "S") == "公共管理、社会保障和社会组织"


def test_label_of_an_empty_code_is_empty_and_an_unknown_code_shows_itself():
    assert codes.label_of(codes.INDUSTRY, "") == ""
    assert codes.label_of(codes.INDUSTRY, None) == ""
    assert codes.label_of(codes.INDUSTRY, "Z") == "Z"


def test_has_code_refuses_empty_unknown_and_look_alike_codes():
    assert not codes.has_code(codes.INDUSTRY, "")
    assert not codes.has_code(codes.INDUSTRY, None)
    assert not codes.has_code(codes.INDUSTRY, "a")  # codes are exact
    assert not codes.has_code(codes.ECONOMIC_TYPE, "900")
    assert not codes.has_code(codes.EDUCATION, "50")


def test_lists_are_django_choices():
    from django import forms

    field = forms.ChoiceField(choices=codes.INDUSTRY)
    assert field.clean("C") == "C"
