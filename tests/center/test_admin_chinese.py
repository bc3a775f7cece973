"""The admin in Chinese only (issue 17 item 7): percent entry of rates, the strings Django 6.1's zh_Hans catalog and
django-tasks-db lack, the greeting."""

import gettext
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import django
import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from django.utils import translation

from employers.admin_forms import CenterPolicyForm, EmployerAdminForm, percent_text
from employers.models import CenterPolicy, User
from tests import factories

pytestmark = pytest.mark.django_db

DJANGO = Path(django.__file__).parent
OURS = Path(apps.get_app_config("gjj_portal").path) / "locale" / "zh_Hans" / "LC_MESSAGES"
# The catalogs whose strings the admin shows: core (forms, choices), the admin's templates and its JavaScript.
CATALOGS = {"django": ["conf/locale/{}/LC_MESSAGES/django.po", "contrib/admin/locale/{}/LC_MESSAGES/django.po",
                       "contrib/auth/locale/{}/LC_MESSAGES/django.po"],
            "djangojs": ["contrib/admin/locale/{}/LC_MESSAGES/djangojs.po"]}


def _unquote(lines: str) -> str:
    return "".join(re.findall(r'"(.*)"', lines)).replace('\\"', '"')


def _po(path: Path) -> dict[tuple[str, str], str]:
    """(msgctxt, msgid) → msgstr (a plural's first form, "" when untranslated) of a .po file, without its header."""
    entries = {}
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        context = re.search(r'^msgctxt ((?:".*"\n?)+)', block, re.M)
        msgid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        msgstr = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
        if msgid and _unquote(msgid.group(1)):
            entries[(_unquote(context.group(1)) if context else "", _unquote(msgid.group(1)))] = _unquote(msgstr.group(1)) if msgstr else ""
    return entries


@pytest.mark.parametrize("domain", CATALOGS)
def test_every_string_django_leaves_untranslated_in_zh_hans_is_in_our_catalog(domain):
    """Fails when a Django upgrade brings a new English string to the admin: add it to gjj_portal/locale."""
    ours = {key for key, value in _po(OURS / f"{domain}.po").items() if value}
    missing = []
    for pattern in CATALOGS[domain]:
        chinese = _po(DJANGO / pattern.format("zh_Hans"))
        missing += [key for key in _po(DJANGO / pattern.format("en")) if not chinese.get(key) and key not in ours]
    assert missing == []


@pytest.mark.parametrize("domain", CATALOGS)
def test_the_compiled_catalog_is_the_po_file(domain, tmp_path):
    compiled = gettext.GNUTranslations(open(OURS / f"{domain}.mo", "rb"))
    entries = _po(OURS / f"{domain}.po")
    assert entries and all(compiled.gettext(msgid) == value for (_context, msgid), value in entries.items())
    subprocess.run(["msgfmt", "--check-format", "-o", str(tmp_path / "x.mo"), str(OURS / f"{domain}.po")], check=True)
    assert (tmp_path / "x.mo").read_bytes() == (OURS / f"{domain}.mo").read_bytes()


def test_django_and_django_tasks_db_strings_read_in_chinese():
    from django.db.models import fields
    from django_tasks_db.models import DBTaskResult

    with translation.override("zh-hans"):
        assert str(fields.BLANK_CHOICE_LABEL) == "请选择"
        assert str(DBTaskResult._meta.verbose_name_plural) == "后台任务结果"
        assert {str(f.verbose_name) for f in DBTaskResult._meta.fields} >= {"状态", "提交时间", "错误堆栈", "最早执行时间"}
        assert translation.gettext("Filter by %(field_name)s") % {"field_name": "时间"} == "按时间筛选"
    assert apps.get_app_config("django_tasks_database").verbose_name == "后台任务"


@pytest.fixture
def admin_client(db):
    factories.make_center()
    user = factories.make_user(role=User.Role.ADMIN, login_name="gly01", is_staff=True, display_name="张管理")
    client = Client()
    factories.login_as(client, user)
    return client


def _visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_admin_greets_in_chinese_without_an_english_full_stop(admin_client):
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert "您好，<strong>张管理</strong>（gly01）" in page and "欢迎" not in page
    assert "css/admin.css" in page  # keeps the login name as written (Django upper-cases the user tools)


def test_admin_pages_show_no_english_interface_text(admin_client):
    """The pages a 系统管理员 opens most: lists with filters and date navigation, change forms with selects."""
    factories.make_policies()
    employer = factories.make_employer()
    policy = CenterPolicy.objects.order_by("year").first()
    urls = [reverse("admin:index"), reverse("admin:employers_employer_changelist"), reverse("admin:employers_employerchange_changelist"),
            reverse("admin:employers_employer_change", args=[employer.pk]), reverse("admin:employers_centerpolicy_change", args=[policy.pk]),
            reverse("admin:employers_centerpolicy_add"), reverse("admin:gjj_portal_listprint_changelist")]
    for url in urls:
        text = _visible(admin_client.get(url).content.decode())
        for english in ("Select an option", "Filter by", "Welcome", "Django", "Task Result", "Tasks Database", "Logout"):
            assert english not in text, (url, english)
    js = admin_client.get(reverse("admin:jsi18n")).content.decode()
    assert "\\u8bf7\\u6309" in js or "请按" in js  # 注意：请按 … 时区填写时间 (the date and time shortcuts)


# ---- rates as percentages


def _policy_data(**kw):
    return {"year": 2030, "base_floor": "1980", "base_cap": "32592.00", "rate_min": "5", "rate_max": "12", "equal_rates": "on",
            "rounding": "yuan", "document": "鄂公中发〔2023〕16号", "interest_rate": "1.5"} | kw


@pytest.mark.parametrize(("typed", "stored"), [("12", "0.1200"), ("12%", "0.1200"), ("１２％", "0.1200"), ("7.5", "0.0750"),
                                               ("7.25", "0.0725"), ("100", "1.0000")])
def test_a_policy_rate_is_typed_as_a_percentage(typed, stored):
    form = CenterPolicyForm(data=_policy_data(rate_max=typed))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["rate_max"] == Decimal(stored)
    assert form.cleaned_data["base_floor"] == Decimal("1980.00")  # whole yuan accepted for money too
    assert form.cleaned_data["interest_rate"] == Decimal("0.0150")


@pytest.mark.parametrize(("field", "typed", "message"), [
    ("rate_max", "12.345", "最多保留两位小数"),
    ("rate_max", "120", "须在 0 到 100 之间"),
    ("rate_max", "abc", "请填写百分比数字"),
    ("rate_min", "3", "不能低于 5%"),
    ("rate_max", "4", "不能低于下限"),
    ("base_cap", "1000", "不能低于下限"),
    ("base_floor", "1980.005", "最多保留两位小数"),
])
def test_a_bad_policy_entry_is_refused_in_chinese_naming_the_rule(field, typed, message):
    data = _policy_data(**{field: typed})
    if field == "rate_max" and typed == "4":
        data["rate_min"] = "5"
    form = CenterPolicyForm(data=data)
    assert not form.is_valid()
    assert message in " ".join(form.errors[field])


def test_the_policy_form_shows_the_stored_fraction_as_a_percentage():
    factories.make_policies()
    policy = CenterPolicy.objects.order_by("year").first()
    form = CenterPolicyForm(instance=policy)
    assert 'value="5"' in str(form["rate_min"]) and 'value="12"' in str(form["rate_max"]) and 'value="1.5"' in str(form["interest_rate"])
    assert "（%）" in form["rate_min"].label
    unchanged = _policy_data(year=policy.year, base_floor=str(policy.base_floor), base_cap=str(policy.base_cap), document=policy.document,
                             equal_rates="on" if policy.equal_rates else "", rounding=policy.rounding)
    assert CenterPolicyForm(instance=policy, data=unchanged).changed_data == []  # 5 typed over 0.0500 is no change
    assert percent_text(Decimal("0.0750")) == "7.5" and percent_text(Decimal("0.1200")) == "12"


def test_the_admin_saves_a_policy_typed_in_percent_and_lists_it_in_percent(admin_client):
    response = admin_client.post(reverse("admin:employers_centerpolicy_add"), _policy_data())
    assert response.status_code == 302, response.content.decode()[:2000]
    policy = CenterPolicy.objects.get(year=2030)
    assert (policy.rate_min, policy.rate_max, policy.base_floor) == (Decimal("0.0500"), Decimal("0.1200"), Decimal("1980.00"))
    listing = admin_client.get(reverse("admin:employers_centerpolicy_changelist")).content.decode()
    assert ">12%<" in listing and ">5%<" in listing and ">1.5%<" in listing


def test_an_employer_rate_is_typed_as_a_percentage_in_the_admin(admin_client):
    employer = factories.make_employer()
    form = EmployerAdminForm(instance=employer)
    assert 'value="12"' in str(form["employer_rate"])
    change = reverse("admin:employers_employer_change", args=[employer.pk])
    page = admin_client.get(change).content.decode()
    assert 'name="employer_rate"' in page and 'value="12"' in page
    assert "单位缴存比例（%）" in page
