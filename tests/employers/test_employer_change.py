"""单位信息变更 (seed 001 ch.3): the pure checks of each item, and employer_change on the database."""

import threading
import time
from decimal import Decimal

import pytest
from django.contrib import admin
from django.db import IntegrityError, connection, transaction

from employers import services, validators
from employers.models import Employer, EmployerChange
from employers.services import (
    EMPLOYER_GREYED_FIELDS,
    EMPLOYER_INFO_FIELDS,
    EmployerChangeItem,
    clean_employer_value,
    employer_change,
)
from gjj_portal import codes
from gjj_portal.errors import BusinessError
from gjj_portal.models import AuditEvent
from tests import factories

# ---------------------------------------------------------------- the field spec


def test_editable_items_are_exactly_the_seed_set_in_the_form_order():
    assert [spec.field for spec in EMPLOYER_INFO_FIELDS] == [
        "address", "postal_code", "legal_rep", "contact_name", "contact_phone", "bank_name", "bank_account", "payday",
        "economic_type", "industry",
    ]
    assert [spec.label for spec in EMPLOYER_INFO_FIELDS] == [
        "单位地址", "邮政编码", "法定代表人", "单位联系人", "联系电话", "开户银行", "银行账号", "发薪日", "单位经济类型", "所属行业",
    ]


def test_spec_unpacks_as_field_label_kind_choices_for_a_form():
    field, label, kind, choices = EMPLOYER_INFO_FIELDS[-1]
    assert (field, label, kind, choices) == ("industry", "所属行业", "choice", codes.INDUSTRY)
    assert all(spec.choices is None for spec in EMPLOYER_INFO_FIELDS if spec.kind != "choice")


def test_greyed_items_are_the_identity_status_dates_and_rates_and_none_is_editable():
    assert [field for field, _ in EMPLOYER_GREYED_FIELDS] == [
        "account_no", "name", "uscc", "status", "opened_on", "employer_rate", "member_rate", "paid_up_to",
    ]
    assert not {field for field, _ in EMPLOYER_GREYED_FIELDS} & {spec.field for spec in EMPLOYER_INFO_FIELDS}


def test_every_spec_field_is_a_model_field():
    names = {f.name for f in Employer._meta.get_fields()}
    assert {spec.field for spec in EMPLOYER_INFO_FIELDS} <= names
    assert {field for field, _ in EMPLOYER_GREYED_FIELDS} <= names


# ---------------------------------------------------------------- pure validators


@pytest.mark.parametrize(("raw", "expected"), [("017000", "017000"), (" 017 000 ", "017000"), ("０１７０００", "017000")])
def test_postal_code_is_six_digits_half_width(raw, expected):
    assert validators.clean_postal_code(raw) == expected


@pytest.mark.parametrize("raw", ["", "01700", "0170001", "01700a", "017-000"])
def test_postal_code_refuses_anything_but_six_digits(raw):
    with pytest.raises(ValueError, match="邮政编码应为6位数字"):
        validators.clean_postal_code(raw)


@pytest.mark.parametrize("raw", ["13904770001", "0477-8581234", "04778581234", "010-12345678", "0477-8581234-806", "１３９０４７７０００１"])
def test_phone_accepts_mobile_and_landline_with_area_code(raw):
    assert validators.clean_phone(raw)


@pytest.mark.parametrize("raw", ["", "1390477000", "12904770001", "8581234", "0477-858", "tel:13904770001", "0477—8581234x"])
def test_phone_refuses_other_formats(raw):
    with pytest.raises(ValueError, match="联系电话应为11位手机号码"):
        validators.clean_phone(raw)


@pytest.mark.parametrize(("raw", "expected"), [("12345678", "12345678"), ("6222 0200 1234 5678 901", "6222020012345678901"),
                                               ("１２３４５６７８", "12345678"), ("1" * 32, "1" * 32)])
def test_bank_account_is_8_to_32_digits(raw, expected):
    assert validators.clean_bank_account(raw) == expected


@pytest.mark.parametrize("raw", ["", "1234567", "1" * 33, "6222A0200123"])
def test_bank_account_refuses_short_long_or_non_digits(raw):
    with pytest.raises(ValueError, match="银行账号应为8至32位数字"):
        validators.clean_bank_account(raw)


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), ("31", 31), (15, 15), ("15日", 15), (" 5 ", 5)])
def test_payday_is_a_day_of_the_month(raw, expected):
    assert validators.clean_payday(raw) == expected


@pytest.mark.parametrize("raw", ["", "0", "32", "-1", "1.5", "十五", None])
def test_payday_refuses_days_outside_1_to_31(raw):
    with pytest.raises(ValueError, match="发薪日应为1至31之间的整数"):
        validators.clean_payday(raw)


def test_code_must_be_in_its_list():
    assert validators.clean_code("110", codes=codes.ECONOMIC_TYPE, label="单位经济类型") == "110"
    assert validators.clean_code("c", codes=codes.INDUSTRY, label="所属行业") == "C"
    with pytest.raises(ValueError, match="所属行业代码不正确"):
        validators.clean_code("Z", codes=codes.INDUSTRY, label="所属行业")
    with pytest.raises(ValueError, match="请选择单位经济类型"):
        validators.clean_code("", codes=codes.ECONOMIC_TYPE, label="单位经济类型")


def test_text_is_required_trimmed_single_line_and_within_the_column():
    assert validators.clean_text("  康巴什区 市民中心 ", label="单位地址", max_length=200) == "康巴什区 市民中心"
    with pytest.raises(ValueError, match="请填写单位地址"):
        validators.clean_text("   ", label="单位地址", max_length=200)
    with pytest.raises(ValueError, match="不能包含换行"):
        validators.clean_text("第一行\n第二行", label="单位地址", max_length=200)
    with pytest.raises(ValueError, match="不能超过5个字"):
        validators.clean_text("一二三四五六", label="法定代表人", max_length=5)


# ---------------------------------------------------------------- clean_employer_value


@pytest.mark.parametrize(("field", "raw", "value", "text"), [
    ("address", " 鄂尔多斯市康巴什区 ", "鄂尔多斯市康巴什区", "鄂尔多斯市康巴什区"),
    ("postal_code", "017010", "017010", "017010"),
    ("contact_phone", "13904770002", "13904770002", "13904770002"),
    ("bank_account", "6222 0000 1111 2222", "6222000011112222", "6222000011112222"),
    ("payday", "10", 10, "每月10日"),
    ("economic_type", "159", "159", "159 其他有限责任（公司）"),
    ("industry", "B", "B", "B 采矿业"),
])
def test_clean_employer_value_returns_the_stored_value_and_its_display(field, raw, value, text):
    assert clean_employer_value(field, raw) == (value, text)


def test_clean_employer_value_refuses_greyed_and_unknown_items_in_chinese():
    with pytest.raises(ValueError, match="「单位名称」为置灰项，不允许变更"):
        clean_employer_value("name", "新名称")
    with pytest.raises(ValueError, match="不属于可变更的单位信息"):
        clean_employer_value("password", "x")


def test_clean_employer_value_uses_the_model_column_length():
    with pytest.raises(ValueError, match="法定代表人不能超过50个字"):
        clean_employer_value("legal_rep", "张" * 51)


# ---------------------------------------------------------------- employer_change (database)


@pytest.fixture
def filled(employer):
    employer.address, employer.postal_code, employer.contact_phone, employer.payday = "旧地址", "017000", "0477-8581234", 5
    employer.economic_type, employer.industry = "110", "B"
    employer.save()
    return employer


@pytest.mark.django_db
def test_change_updates_the_employer_and_records_each_item_old_to_new(filled, agent):
    rows = employer_change(employer=filled, actor=agent, reason="单位搬迁", changes=[
        EmployerChangeItem("address", "新地址", "旧地址", "新地址"),
        EmployerChangeItem("payday", 15, "每月5日", "每月15日"),
        EmployerChangeItem("industry", "C", "B 采矿业", "C 制造业"),
    ])
    filled.refresh_from_db()
    assert (filled.address, filled.payday, filled.industry) == ("新地址", 15, "C")
    assert [(r.field, r.label, r.old, r.new) for r in rows] == [
        ("address", "单位地址", "旧地址", "新地址"), ("payday", "发薪日", "每月5日", "每月15日"), ("industry", "所属行业", "B 采矿业", "C 制造业"),
    ]
    stored = EmployerChange.objects.filter(employer=filled)
    assert stored.count() == 3 and all(r.actor == agent and r.reason == "单位搬迁" and r.pk for r in stored)
    assert len({r.at for r in stored}) == 1  # one 变更时间 for the whole application


@pytest.mark.django_db
def test_change_updates_the_callers_instance_too(filled, agent):
    employer_change(employer=filled, actor=agent, changes=[("postal_code", "017010")])
    assert filled.postal_code == "017010"


@pytest.mark.django_db
def test_change_accepts_tuples_and_dicts_and_old_texts_are_optional(filled, agent):
    rows = employer_change(employer=filled, actor=agent, changes=[("legal_rep", "李四"), {"field": "bank_name", "value": "中国银行"}])
    assert [r.old for r in rows] == ["", ""] and [r.new for r in rows] == ["李四", "中国银行"]


@pytest.mark.django_db
def test_change_writes_one_audit_event_naming_the_fields(filled, agent):
    before = AuditEvent.objects.filter(event="employers.employer.changed").count()
    employer_change(employer=filled, actor=agent, changes=[("address", "新地址"), ("contact_name", "王五")])
    events = AuditEvent.objects.filter(event="employers.employer.changed")
    assert events.count() == before + 1
    event = events.order_by("-seq").first()
    assert event.employer_id == filled.pk and event.data["fields"] == ["address", "contact_name"]
    assert "新地址" not in str(event.data)  # the values stay in the history, not the audit chain


@pytest.mark.django_db
def test_change_links_the_application_batch(filled, agent):
    from approvals.models import Batch

    batch = Batch.objects.create(employer=filled, agent=agent, business_code="employer_change")
    rows = employer_change(employer=filled, actor=agent, batch=batch, changes=[("address", "新地址")])
    assert EmployerChange.objects.get(pk=rows[0].pk).batch_id == batch.pk
    audit = AuditEvent.objects.filter(event="employers.employer.changed").order_by("-seq").first()
    assert audit.data["batch"] == batch.pk


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "label"), EMPLOYER_GREYED_FIELDS)
def test_change_refuses_every_greyed_item_and_changes_nothing(filled, agent, field, label):
    before = Employer.objects.values().get(pk=filled.pk)
    with pytest.raises(BusinessError, match=f"「{label}」为置灰项，不允许变更"):
        employer_change(employer=filled, actor=agent, changes=[("address", "新地址"), (field, "x")])
    assert Employer.objects.values().get(pk=filled.pk) == before
    assert not EmployerChange.objects.exists()


@pytest.mark.django_db
def test_change_refuses_an_unknown_item(filled, agent):
    with pytest.raises(BusinessError, match="不属于可变更的单位信息"):
        employer_change(employer=filled, actor=agent, changes=[("is_superuser", True)])


@pytest.mark.django_db
def test_change_refuses_an_empty_list(filled, agent):
    with pytest.raises(BusinessError, match="待变更清册为空"):
        employer_change(employer=filled, actor=agent, changes=[])


@pytest.mark.django_db
def test_change_refuses_the_same_item_twice(filled, agent):
    with pytest.raises(BusinessError, match="「单位地址」在待变更清册中重复"):
        employer_change(employer=filled, actor=agent, changes=[("address", "甲"), ("address", "乙")])


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value", "message"), [
    ("postal_code", "01701", "「邮政编码」：邮政编码应为6位数字"),
    ("contact_phone", "12345", "「联系电话」：联系电话应为11位手机号码"),
    ("bank_account", "1234", "「银行账号」：银行账号应为8至32位数字"),
    ("payday", 32, "「发薪日」：发薪日应为1至31之间的整数"),
    ("economic_type", "900", "「单位经济类型」：单位经济类型代码不正确"),
    ("industry", "Z", "「所属行业」：所属行业代码不正确"),
    ("address", "  ", "「单位地址」：请填写单位地址"),
])
def test_change_revalidates_every_value_and_writes_nothing_on_error(filled, agent, field, value, message):
    with pytest.raises(BusinessError, match=message):
        employer_change(employer=filled, actor=agent, changes=[("legal_rep", "李四"), (field, value)])
    filled.refresh_from_db()
    assert filled.legal_rep == "" and not EmployerChange.objects.exists()


@pytest.mark.django_db
def test_change_refuses_an_item_whose_value_changed_since_the_list_was_made(filled, agent):
    """另一经办人已改过该项：清册中的“变更前”与当前值不符，不得覆盖。"""
    Employer.objects.filter(pk=filled.pk).update(address="别人改的地址")
    with pytest.raises(BusinessError, match="「单位地址」已被他人变更"):
        employer_change(employer=filled, actor=agent, changes=[EmployerChangeItem("address", "我的新地址", "旧地址", "我的新地址")])
    assert Employer.objects.get(pk=filled.pk).address == "别人改的地址"


@pytest.mark.django_db
def test_change_refuses_an_item_that_does_not_change(filled, agent):
    with pytest.raises(BusinessError, match="「发薪日」变更前后相同"):
        employer_change(employer=filled, actor=agent, changes=[("payday", "5")])


@pytest.mark.django_db
def test_closed_employer_cannot_change_its_information(filled, agent):
    Employer.objects.filter(pk=filled.pk).update(status=Employer.Status.CLOSED)
    with pytest.raises(BusinessError, match="单位已销户"):
        employer_change(employer=filled, actor=agent, changes=[("address", "新地址")])


@pytest.mark.django_db
def test_an_agent_cannot_change_another_employer(filled, outsider):
    with pytest.raises(BusinessError, match="只能变更本单位"):
        employer_change(employer=filled, actor=outsider, changes=[("address", "新地址")])
    assert Employer.objects.get(pk=filled.pk).address == "旧地址"


@pytest.mark.django_db
def test_a_mobile_number_is_kept_masked_in_the_history(filled, agent):
    """SEC-38: 列表中的手机号码脱敏显示。"""
    rows = employer_change(employer=filled, actor=agent, changes=[("contact_phone", "13904770002")])
    assert (rows[0].old, rows[0].new) == ("0477-8581234", "139****0002")
    assert Employer.objects.get(pk=filled.pk).contact_phone == "13904770002"


@pytest.mark.django_db
def test_rates_stay_as_they_were(filled, agent):
    employer_change(employer=filled, actor=agent, changes=[("address", "新地址")])
    filled.refresh_from_db()
    assert (filled.employer_rate, filled.member_rate) == (Decimal("0.1200"), Decimal("0.1200"))


# ---------------------------------------------------------------- model and admin


@pytest.mark.django_db
def test_payday_outside_1_to_31_is_refused_by_the_database(employer):
    with pytest.raises(IntegrityError), transaction.atomic():
        Employer.objects.filter(pk=employer.pk).update(payday=32)


@pytest.mark.django_db
def test_payday_may_be_empty(employer):
    Employer.objects.filter(pk=employer.pk).update(payday=None)
    assert Employer.objects.get(pk=employer.pk).payday is None


SUPERUSER = type("Superuser", (), {"is_active": True, "is_staff": True, "is_superuser": True, "has_perm": lambda *a: True})()


def test_history_is_read_only_in_the_admin(rf):
    model_admin = admin.site._registry[EmployerChange]
    request = rf.get("/")
    request.user = SUPERUSER
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    assert len(model_admin.list_display) >= 5 and model_admin.search_fields and model_admin.list_filter


def test_new_employer_fields_are_editable_in_the_admin(rf):
    model_admin = admin.site._registry[Employer]
    request = rf.get("/")
    request.user = SUPERUSER
    form = model_admin.get_form(request)
    assert {"payday", "economic_type", "industry"} <= set(form.base_fields)
    assert not {"payday", "economic_type", "industry"} & set(model_admin.get_readonly_fields(request))


# SQLite's in-memory test database cannot hold two writers; the sequential stale-item test above covers it.
@pytest.mark.postgres
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers are proven on PostgreSQL only")
@pytest.mark.django_db(transaction=True)
def test_two_agents_changing_the_same_item_at_once_end_with_one_change(monkeypatch):
    """行锁：两名经办人同时按同一“变更前”变更单位地址，只有一人成功，另一人被告知已被他人变更。"""
    employer = factories.make_employer(address="旧地址")
    agents = [factories.make_agent(employer, login_name=f"jbr0{n}") for n in (1, 2)]
    record = services.audit.record

    def slow_record(*args, **kwargs):  # hold the row lock a while, so the other agent must wait for it
        time.sleep(0.3)
        return record(*args, **kwargs)

    monkeypatch.setattr(services.audit, "record", slow_record)
    barrier, results = threading.Barrier(2), []

    def worker(agent, address):
        try:
            barrier.wait()
            employer_change(employer=Employer.objects.get(pk=employer.pk), actor=agent,
                            changes=[EmployerChangeItem("address", address, "旧地址", address)])
            results.append("ok")
        except BusinessError as exc:
            results.append(exc.code)
        except Exception as exc:  # recorded so the assertion shows what escaped
            results.append(f"{type(exc).__name__}: {exc}")
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(agent, f"{agent.login_name}的新地址")) for agent in agents]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(results) == ["ok", "stale"], results
    assert EmployerChange.objects.filter(employer=employer).count() == 1
    assert Employer.objects.get(pk=employer.pk).address == EmployerChange.objects.get(employer=employer).new
