"""members.services: every write to a Member, each rule once (issue 12 item 3)."""

from decimal import Decimal

import pytest

from approvals.services import batch_complete
from gjj_portal.audit import AuditEvent
from gjj_portal.errors import BusinessError
from gjj_portal.money import month_add
from members.models import Member, MemberChange, ScheduledBaseChange
from members.selectors import member_search
from members.services import (
    MEMBER_INFO_FIELDS,
    InfoChange,
    StatusItem,
    employer_next_period,
    member_info_change,
    member_open,
    member_rebase,
    member_seal,
    member_unseal,
    members_seal,
)
from tests.factories import make_employer, make_member, valid_id_number
from tests.members.factories import make_batch, register_row

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------- 封存 / 启封

def test_seal_changes_a_normal_member_and_records_one_history_row(employer, agent):
    member = make_member(employer)
    sealed = member_seal(member=member, actor=agent, reason="辞职")
    member.refresh_from_db()
    assert sealed.status == member.status == Member.Status.SEALED and member.seal_reason == "辞职"
    change = MemberChange.objects.get(member=member, kind=MemberChange.Kind.STATUS)
    assert (change.field, change.old, change.new, change.reason, change.actor_id) == ("账户状态", "正常", "封存", "辞职", agent.pk)


def test_seal_rejects_a_member_who_is_not_normal(employer, agent):
    member = make_member(employer, status=Member.Status.SEALED)
    with pytest.raises(BusinessError, match="只有状态正常的职工才能封存"):
        member_seal(member=member, actor=agent, reason="辞职")
    assert not MemberChange.objects.filter(kind=MemberChange.Kind.STATUS).exists()


def test_unseal_rejects_a_member_who_is_not_sealed(employer, agent):
    member = make_member(employer)
    with pytest.raises(BusinessError, match="只有封存的职工才能启封"):
        member_unseal(member=member, actor=agent, reason="调入")
    member.refresh_from_db()
    assert member.status == Member.Status.NORMAL


def test_unseal_brings_a_sealed_member_back_and_clears_the_reason(employer, agent):
    member = make_member(employer)
    member_seal(member=member, actor=agent, reason="辞职")
    member_unseal(member=member, actor=agent, reason="调入")
    member.refresh_from_db()
    assert member.status == Member.Status.NORMAL and member.seal_reason == ""
    assert list(MemberChange.objects.filter(kind=MemberChange.Kind.STATUS).order_by("pk").values_list("new", flat=True)) == ["封存", "正常"]


def test_set_seal_refuses_the_whole_list_when_one_member_is_not_normal(employer, agent):
    normal, sealed = make_member(employer), make_member(employer, status=Member.Status.SEALED)
    items = [StatusItem(normal.pk, "辞职", "清册第1行（甲）"), StatusItem(sealed.pk, "辞职", "清册第2行（乙）")]
    with pytest.raises(BusinessError, match="清册第2行（乙）的账户状态已是「封存」"):
        members_seal(employer=employer, items=items, actor=agent)
    normal.refresh_from_db()
    assert normal.status == Member.Status.NORMAL


def test_set_seal_never_touches_another_employers_member(employer, agent):
    stranger = make_member(make_employer())
    with pytest.raises(BusinessError, match="不存在"):
        members_seal(employer=employer, items=[StatusItem(stranger.pk, "辞职", "清册第1行（丙）")], actor=agent)
    stranger.refresh_from_db()
    assert stranger.status == Member.Status.NORMAL


# ---------------------------------------------------------------- 基数调整

def test_rebase_of_the_next_month_to_assess_takes_effect_now_with_two_history_rows(employer, agent):
    member = make_member(employer, base=Decimal("6000.00"))
    period = employer_next_period(employer=employer)
    member_rebase(member=member, base=Decimal("7000.00"), effective_period=period, actor=agent)
    member.refresh_from_db()
    assert member.base == Decimal("7000.00") and member.monthly_amount == Decimal("1680.00")
    rows = MemberChange.objects.filter(member=member, kind=MemberChange.Kind.BASE).order_by("pk")
    assert [(r.field, r.old, r.new) for r in rows] == [("缴存基数", "6000.00", "7000.00"), ("月缴存额", "1440.00", "1680.00")]


def test_rebase_of_a_later_month_is_scheduled_and_changes_nothing_yet(employer, agent):
    member = make_member(employer, base=Decimal("6000.00"))
    later = month_add(employer_next_period(employer=employer), 2)
    member_rebase(member=member, base=Decimal("7000.00"), effective_period=later, actor=agent)
    member.refresh_from_db()
    assert member.base == Decimal("6000.00") and not MemberChange.objects.filter(kind=MemberChange.Kind.BASE).exists()
    scheduled = ScheduledBaseChange.objects.get(member=member)
    assert (scheduled.base, scheduled.effective_period, scheduled.monthly_amount) == (Decimal("7000.00"), later, Decimal("1680.00"))


def test_rebase_refuses_a_month_already_assessed(employer, agent):
    member = make_member(employer)
    earlier = month_add(employer_next_period(employer=employer), -1)
    with pytest.raises(BusinessError, match="已汇缴核定"):
        member_rebase(member=member, base=Decimal("7000.00"), effective_period=earlier, actor=agent)


# ---------------------------------------------------------------- 缴存人信息变更

def test_info_change_refuses_a_greyed_field(employer, agent):
    member = make_member(employer, name="王五")
    for field in ("name", "base", "status", "id_number"):
        with pytest.raises(BusinessError, match="不能通过信息变更修改"):
            member_info_change(member=member, actor=agent, changes=[InfoChange(field, "x", "", "x")])
    member.refresh_from_db()
    assert member.name == "王五" and not MemberChange.objects.filter(kind=MemberChange.Kind.INFO).exists()


def test_info_fields_are_exactly_the_editable_ones():
    assert MEMBER_INFO_FIELDS == {"education", "landline", "phone", "postal_code", "duty", "occupation", "title", "marital_status",
                                  "address", "family_income", "department_id"}  # 部门: 单位部门管理 (issue 17)


def test_info_change_writes_one_history_row_per_changed_item_and_one_audit_event(employer, agent):
    member = make_member(employer)
    member.duty = "科员"
    member.save(update_fields=["duty"])
    before = AuditEvent.objects.count()
    rows = member_info_change(member=member, actor=agent, changes=[
        InfoChange("education", "21", "", "大学本科"), InfoChange("duty", "科员", "科员", "科员"),  # unchanged: no row
        InfoChange("family_income", Decimal("12000.00"), "", "12,000.00"),
    ])
    assert [(r.field, r.old, r.new) for r in rows] == [("学历", "", "大学本科"), ("家庭月收入", "", "12,000.00")]
    assert MemberChange.objects.filter(member=member, kind=MemberChange.Kind.INFO).count() == 2
    member.refresh_from_db()
    assert (member.education, member.family_income) == ("21", Decimal("12000.00"))
    assert AuditEvent.objects.count() == before + 1


def test_info_change_keeps_the_phone_encrypted_and_shows_it_masked(employer, agent):
    member = make_member(employer, phone="13904770001")
    (row,) = member_info_change(member=member, actor=agent, changes=[InfoChange("phone", "13812345678", "13904770001", "13812345678")])
    assert (row.field, row.old, row.new) == ("手机号码", "139****0001", "138****5678")
    stored = Member.objects.get(pk=member.pk)
    assert stored.phone == "13812345678" and "13812345678" not in stored.phone_enc
    assert not MemberChange.objects.filter(new__contains="13812345678").exists()


def test_info_change_with_nothing_changed_is_refused(employer, agent):
    member = make_member(employer)
    with pytest.raises(BusinessError, match="没有任何变更"):
        member_info_change(member=member, actor=agent, changes=[InfoChange("duty", "", "", "")])


def test_info_change_checks_the_stored_shape(employer, agent):
    member = make_member(employer)
    with pytest.raises(BusinessError, match="邮政编码"):
        member_info_change(member=member, actor=agent, changes=[InfoChange("postal_code", "0170001234", "", "0170001234")])


# ---------------------------------------------------------------- 开户: one way, one duplicate check

def test_member_open_refuses_an_id_open_anywhere_in_the_center(employer):
    number = valid_id_number()
    make_member(make_employer(), id_number=number)
    with pytest.raises(BusinessError, match="不能重复开户"):
        make_member(employer, id_number=number)
    assert not Member.objects.filter(employer=employer).exists()


def test_batch_open_refuses_an_id_open_anywhere_in_the_center(agent):
    number = valid_id_number()
    batch = make_batch(agent, rows=[register_row(id_number=number)])
    make_member(make_employer(), id_number=number)
    with pytest.raises(BusinessError, match="已在单位"):
        batch_complete(batch=batch, agent=agent)
    assert not Member.objects.filter(employer=agent.employer).exists()


def test_member_open_and_batch_open_share_the_numbering_and_the_history(agent):
    employer = agent.employer
    first = make_member(employer)
    batch = make_batch(agent, rows=[register_row(name="甲"), register_row(name="乙")])
    batch_complete(batch=batch, agent=agent)
    third = member_open(employer=employer, agent=agent, name="丙", id_number=valid_id_number(), gender="M", birth_date=first.birth_date,
                        base=Decimal("6000.00"), employer_rate=employer.employer_rate, member_rate=employer.member_rate,
                        start_period=first.start_period)
    numbers = list(Member.objects.filter(employer=employer).order_by("pk").values_list("account_no", flat=True))
    assert numbers == [f"{employer.account_no}{n:05d}" for n in range(1, 5)] and third.account_no == numbers[-1]
    history = MemberChange.objects.filter(kind=MemberChange.Kind.OPEN).order_by("member_id")
    assert [(h.member_id, h.field, h.new, h.reason) for h in history] == [
        (pk, "账户状态", "正常", "缴存人登记") for pk in Member.objects.filter(employer=employer).order_by("pk").values_list("pk", flat=True)]
    assert [h.batch_id for h in history] == [None, batch.pk, batch.pk, None]


def test_batch_open_history_names_only_the_members_it_opened(agent):
    """The 开户 history is found as the employer's members above a mark: a member of another employer opened
    in between gets none of this batch's rows."""
    other = make_member(make_employer())
    batch = make_batch(agent, rows=[register_row(), register_row()])
    batch_complete(batch=batch, agent=agent)
    assert MemberChange.objects.filter(batch=batch).count() == 2
    assert not MemberChange.objects.filter(member=other, batch=batch).exists()


# ---------------------------------------------------------------- the member picker

def test_search_finds_by_name_account_prefix_and_id_tail_at_this_employer_only(employer):
    wang = make_member(employer, name="王小明", id_number="11010519491231002X")
    li = make_member(employer, name="李四", id_number=valid_id_number())
    make_member(make_employer(), name="王小明")
    assert [m.pk for m in member_search(employer=employer, query="小明")] == [wang.pk]
    assert [m.pk for m in member_search(employer=employer, query=li.account_no)] == [li.pk]
    assert {m.pk for m in member_search(employer=employer, query=employer.account_no)} == {wang.pk, li.pk}
    assert [m.pk for m in member_search(employer=employer, query="002x")] == [wang.pk]


def test_search_by_five_or_six_id_digits_checks_the_number_itself(employer):
    wang = make_member(employer, id_number="11010519491231002X")
    assert [m.pk for m in member_search(employer=employer, query="1002X")] == [wang.pk]
    assert [m.pk for m in member_search(employer=employer, query="31002X")] == [wang.pk]
    assert list(member_search(employer=employer, query="91002X")) == []  # same last four, different fifth-last


def test_search_pages_by_account_number_and_leaves_out_excluded_and_other_statuses(employer):
    members = [make_member(employer, name=f"张{i}") for i in range(5)]
    sealed = make_member(employer, name="张封", status=Member.Status.SEALED)
    page = list(member_search(employer=employer, query="张", status=Member.Status.NORMAL, limit=2))
    assert [m.pk for m in page] == [members[0].pk, members[1].pk]
    following = member_search(employer=employer, query="张", status=Member.Status.NORMAL, limit=2, after=page[-1].account_no,
                              exclude_ids=[members[2].pk])
    assert [m.pk for m in following] == [members[3].pk, members[4].pk]
    assert sealed.pk not in {m.pk for m in member_search(employer=employer, query="张", status=Member.Status.NORMAL, limit=50)}
    assert list(member_search(employer=employer, query="  ")) == []


def test_search_shows_the_pickers_fields_in_one_query(employer, django_assert_num_queries):
    make_member(employer, name="赵六")
    with django_assert_num_queries(1):
        (found,) = list(member_search(employer=employer, query="赵"))
        assert (found.name, found.status, found.base, found.monthly_amount) == ("赵六", "normal", Decimal("6000.00"), Decimal("1440.00"))
        assert found.id_masked and found.account_no


def test_search_uses_the_employer_index_on_postgresql(employer):
    """20,000 members: the scan stays inside this employer's rows (the planner is told not to scan the table)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    make_member(employer, name="钱七")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = member_search(employer=employer, query="钱").explain()
    assert "Index" in plan and "employer_id" in plan, plan
