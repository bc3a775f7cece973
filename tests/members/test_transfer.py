"""缴存人调动 (seed 000 §7) and 缴存人单位调整 (seed 001 ch.12): the search that reveals nothing, the rules of issue 14
item 4 (each test fails when its rule is broken), the move on approval (old account 销户, new account 正常, the balance
by a balanced 内部转移, history and messages at both ends), 【结束流程】, and the 调动确认单."""

from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from approvals.models import Application, Batch, Message
from approvals.services import (
    RowsInvalid,
    application_end,
    application_pass,
    application_return,
    batch_complete,
    batch_line_add,
)
from employers.models import EmployerGroup, GroupTransferGrant
from gjj_portal.errors import BusinessError
from gjj_portal.models import ListPrint
from members.businesses import transfer_group, transfer_in
from members.models import Member, MemberChange, ScheduledBaseChange
from members.services import StatusItem, TransferItem, members_seal, members_transfer, transfer_blockers
from remittance import selectors as remittance_selectors
from remittance import services as remittance_services
from remittance.journal import reconcile
from remittance.models import Entry, Line
from tests import factories

pytestmark = pytest.mark.django_db

JULY, AUGUST = date(2025, 7, 1), date(2025, 8, 1)


# ---- a small city: the old employer allocated July for the person, then sealed them ---------------------------------


@pytest.fixture
def city(db):
    factories.make_center()
    old = factories.make_employer(name="示例建设有限公司")
    new = factories.make_employer(name="示例能源有限公司", employer_rate=Decimal("0.1000"), member_rate=Decimal("0.1000"))
    third = factories.make_employer(name="第三家商贸有限公司")
    agents = {e.pk: factories.make_agent(e, login_name="jbr01") for e in (old, new, third)}
    reviewer = factories.make_reviewer(login_name="shenhe01")
    person = factories.make_member(old, base=Decimal("6000.00"), name="张小明")
    colleague = factories.make_member(old, base=Decimal("5000.00"), name="李同事")
    factories.make_member(new, base=Decimal("4000.00"), name="王新人")
    assessment = remittance_services.assessment_create(employer=old, agent=agents[old.pk], period=JULY)
    remittance_services.payment_record(employer=old, amount=assessment.amount, value_date=date(2025, 7, 5), bank_serial_no="B0001",
                                       reviewer=reviewer)
    allocation = remittance_services.allocation_complete(assessment=assessment, agent=agents[old.pk], idempotency_key="k-july")
    return {"old": old, "new": new, "third": third, "agents": agents, "reviewer": reviewer, "person": person,
            "colleague": colleague, "allocation": allocation}


def seal(member, agent, reason="调出"):
    members_seal(employer=member.employer, items=[StatusItem(member.pk, reason)], actor=agent)
    member.refresh_from_db()


def row(member, **kw):
    values = {"id_number": member.id_number, "base": "7000.00", "start_period": "2025-08"}
    values.update(kw)
    return values


def stage(city, member, **kw) -> Batch:
    (line,) = batch_line_add(employer=city["new"], agent=city["agents"][city["new"].pk], business_code="transfer_in", row=row(member, **kw))
    return line.batch


def submit(city, batch) -> Application:
    batch_complete(batch=batch, agent=city["agents"][batch.employer_id])
    return Application.objects.get(batch=batch)


def approve(city, application) -> Application:
    return application_pass(application=application, reviewer=city["reviewer"], version=application.version)


def transfer(city, member=None, **kw):
    member = member or city["person"]
    application = approve(city, submit(city, stage(city, member, **kw)))
    return Member.objects.get(id_index=member.id_index, status=Member.Status.NORMAL), application


# ---- the search reveals nothing unless the old employer sealed the account ---------------------------------------


def search(city, number, employer=None):
    return transfer_in.PICKER.search(employer=employer or city["new"], query=number, exclude_ids=None, after="", limit=11)


def test_search_finds_nothing_before_the_old_employer_seals(city):
    assert search(city, city["person"].id_number) == []


def test_search_finds_the_sealed_account_of_another_employer(city):
    seal(city["person"], city["agents"][city["old"].pk])
    assert search(city, city["person"].id_number) == [city["person"]]


def test_search_finds_nothing_for_a_member_of_this_employer_sealed_or_not(city):
    seal(city["person"], city["agents"][city["old"].pk])
    assert search(city, city["person"].id_number, employer=city["old"]) == []


def test_search_needs_the_whole_valid_number(city):
    seal(city["person"], city["agents"][city["old"].pk])
    assert search(city, city["person"].id_number[:17]) == [] and search(city, city["person"].id_masked) == []


def test_found_person_shows_surname_masked_id_and_old_employer_only(city):
    seal(city["person"], city["agents"][city["old"].pk])
    person = city["person"]
    shown = transfer_in.PICKER.label(person) + str(transfer_in.PICKER.echo(person))
    assert "张**" in shown and person.id_masked in shown and city["old"].name in shown
    for hidden in ("小明", person.account_no, person.id_number, "1,440.00", "1440"):
        assert hidden not in shown


def test_entry_refusal_reads_the_same_whether_absent_unsealed_or_ours(city):
    """同一答复：查无此人、原单位未封存、本单位职工，三种情况文字相同，不泄露任何信息。"""
    unsealed = city["person"]
    ours = factories.make_member(city["new"], status=Member.Status.SEALED)
    absent = factories.valid_id_number()
    answers = set()
    for number in (unsealed.id_number, ours.id_number, absent):
        with pytest.raises(RowsInvalid) as refused:
            batch_line_add(employer=city["new"], agent=city["agents"][city["new"].pk], business_code="transfer_in",
                           row={"id_number": number, "base": "7000.00", "start_period": "2025-08"})
        answers.add(str(refused.value))
    assert answers == {transfer_in.NOT_FOUND}
    assert not Batch.objects.filter(business_code="transfer_in").exists()


# ---- rules (issue 14 item 4) ---------------------------------------------------------------------------------------


def test_one_person_per_transfer_list(city):
    seal(city["person"], city["agents"][city["old"].pk])
    seal(city["colleague"], city["agents"][city["old"].pk])
    batch = stage(city, city["person"])
    with pytest.raises(BusinessError, match="一次只可添加1个职工"):
        batch_line_add(batch=batch, agent=city["agents"][city["new"].pk], row=row(city["colleague"]))


def test_new_base_must_respect_the_floor_and_cap(city):
    seal(city["person"], city["agents"][city["old"].pk])
    with pytest.raises(RowsInvalid, match="缴存基数不能低于1,980.00元"):
        stage(city, city["person"], base="1000.00")
    with pytest.raises(RowsInvalid, match="缴存基数不能高于32,592.00元"):
        stage(city, city["person"], base="40000.00")


def test_start_month_must_follow_the_old_paid_up_to(city):
    seal(city["person"], city["agents"][city["old"].pk])
    with pytest.raises(RowsInvalid, match="须晚于该职工在原单位的缴至年月（2025年07月）"):
        stage(city, city["person"], start_period="2025-07")


def test_start_month_cannot_be_one_the_new_employer_assessed(city):
    new = city["new"]
    remittance_services.assessment_create(employer=new, agent=city["agents"][new.pk], period=JULY)
    remittance_services.assessment_create(employer=new, agent=city["agents"][new.pk], period=AUGUST)
    seal(city["person"], city["agents"][city["old"].pk])
    with pytest.raises(RowsInvalid, match="起缴年月不能早于2025年09月"):
        stage(city, city["person"], start_period="2025-08")


def test_service_refuses_a_move_to_the_employer_that_holds_the_person(city):
    seal(city["person"], city["agents"][city["old"].pk])
    with pytest.raises(BusinessError, match="已是本单位职工"):
        members_transfer(employer=city["old"], items=[TransferItem(city["person"].pk, Decimal("6000.00"), AUGUST)], actor=None,
                         business_code="transfer_in", sealed_only=True)


def test_service_refuses_an_unsealed_account_for_transfer_in(city):
    with pytest.raises(BusinessError, match="须原单位先办理封存"):
        members_transfer(employer=city["new"], items=[TransferItem(city["person"].pk, Decimal("6000.00"), AUGUST)], actor=None,
                         business_code="transfer_in", sealed_only=True)


def test_an_assessed_month_not_yet_allocated_blocks_the_move(city):
    old, agent = city["old"], city["agents"][city["old"].pk]
    remittance_services.assessment_create(employer=old, agent=agent, period=AUGUST)
    seal(city["person"], agent)
    with pytest.raises(RowsInvalid, match="原单位2025年08月的汇缴核定包含该职工、尚未汇缴分配"):
        stage(city, city["person"], start_period="2025-09")


def test_an_open_list_line_at_the_old_employer_blocks_the_move(city):
    agent = city["agents"][city["old"].pk]
    seal(city["person"], agent)
    batch_line_add(employer=city["old"], agent=agent, business_code="member_unseal",
                   row={"account_no": city["person"].account_no, "reason": "重新入职"})
    with pytest.raises(RowsInvalid, match="正在录入（未办结）的「缴存人启封」清册"):
        stage(city, city["person"])


def test_a_base_change_not_yet_in_force_blocks_the_move(city):
    person = city["person"]
    seal(person, city["agents"][city["old"].pk])
    ScheduledBaseChange.objects.create(member=person, employer=city["old"], base=Decimal("6500.00"), employer_rate=person.employer_rate,
                                       member_rate=person.member_rate, employer_amount=Decimal("780.00"), member_amount=Decimal("780.00"),
                                       monthly_amount=Decimal("1560.00"), effective_period=date(2025, 9, 1))
    assert "尚未生效的基数调整" in transfer_blockers([person.pk])[person.pk]


def test_a_blocker_arising_after_submission_refuses_the_approval_and_changes_nothing(city):
    agent = city["agents"][city["old"].pk]
    seal(city["person"], agent)
    application = submit(city, stage(city, city["person"], start_period="2025-09"))
    remittance_services.assessment_create(employer=city["old"], agent=agent, period=AUGUST)  # includes nobody sealed…
    batch_line_add(employer=city["old"], agent=agent, business_code="member_unseal",
                   row={"account_no": city["person"].account_no, "reason": "重新入职"})
    with pytest.raises(BusinessError, match="缴存人启封"):
        approve(city, application)
    city["person"].refresh_from_db()
    assert city["person"].status == Member.Status.SEALED and not Entry.objects.filter(kind=Entry.Kind.TRANSFER).exists()


# ---- the move ---------------------------------------------------------------------------------------------------


def test_approval_moves_the_person_and_the_balance_in_one_balanced_entry(city):
    old, new, person = city["old"], city["new"], city["person"]
    seal(person, city["agents"][old.pk])
    moved, _application = transfer(city)
    person.refresh_from_db()
    assert person.status == Member.Status.CLOSED and person.employer == old
    assert moved.employer == new and moved.account_no.startswith(new.account_no) and moved.account_no != person.account_no
    assert (moved.base, moved.employer_rate, moved.member_rate, moved.start_period) == (Decimal("7000.00"), Decimal("0.1000"),
                                                                                       Decimal("0.1000"), AUGUST)
    assert moved.monthly_amount == Decimal("1400.00") and moved.name == "张小明" and moved.id_number == person.id_number
    entry = Entry.objects.get(kind=Entry.Kind.TRANSFER)
    assert entry.employer == new and entry.amount == Decimal("1440.00") and entry.headcount == 1
    lines = {line.member_id: line.amount for line in Line.objects.filter(entry=entry)}
    assert lines == {person.pk: Decimal("1440.00"), moved.pk: Decimal("-1440.00")}
    assert reconcile() == []


def test_one_open_account_per_person_holds_across_the_move(city):
    seal(city["person"], city["agents"][city["old"].pk])
    transfer(city)
    assert Member.objects.filter(id_index=city["person"].id_index).exclude(status=Member.Status.CLOSED).count() == 1


def test_history_at_both_employers_names_the_other_side_only_where_entitled(city):
    old, new, person = city["old"], city["new"], city["person"]
    seal(person, city["agents"][old.pk])
    moved, _ = transfer(city)
    at_old = {(c.field, c.old, c.new, c.reason) for c in MemberChange.objects.filter(employer=old, member=person, reason="调出")}
    assert ("账户状态", "封存", "销户", "调出") in at_old and ("转出余额", "1,440.00", "0.00", "调出") in at_old
    assert not any(new.name in str(item) for item in at_old)  # 调动 between unlinked units: the old one is not told where
    at_new = {(c.field, c.new, c.reason) for c in MemberChange.objects.filter(employer=new, member=moved)}
    assert {("账户状态", "正常", "调入"), ("原缴存单位", f"{old.account_no} {old.name}", "调入"), ("转入余额", "1,440.00", "调入")} <= at_new


def test_both_employers_are_messaged(city):
    seal(city["person"], city["agents"][city["old"].pk])
    moved, _ = transfer(city)
    assert Message.objects.filter(employer=city["new"], content__contains=moved.account_no).exists()
    told = Message.objects.get(employer=city["old"], content__contains=city["person"].account_no).content
    assert "已调出" in told and city["new"].name not in told and moved.account_no not in told


def test_end_flow_before_approval_changes_nothing(city):
    seal(city["person"], city["agents"][city["old"].pk])
    application = submit(city, stage(city, city["person"]))
    application_end(application=application, agent=city["agents"][city["new"].pk])
    city["person"].refresh_from_db()
    assert city["person"].status == Member.Status.SEALED
    assert not Member.objects.filter(employer=city["new"], id_index=city["person"].id_index).exists()
    assert not Entry.objects.filter(kind=Entry.Kind.TRANSFER).exists()


def test_return_changes_nothing(city):
    seal(city["person"], city["agents"][city["old"].pk])
    application = submit(city, stage(city, city["person"]))
    application_return(application=application, reviewer=city["reviewer"], version=application.version, opinion="请补充档案")
    city["person"].refresh_from_db()
    assert city["person"].status == Member.Status.SEALED and not Entry.objects.filter(kind=Entry.Kind.TRANSFER).exists()


def test_the_second_transfer_of_the_same_person_is_refused(city):
    """Two receiving employers staged the same person; the first approval wins, the second changes nothing."""
    seal(city["person"], city["agents"][city["old"].pk])
    first = submit(city, stage(city, city["person"]))
    third = city["third"]
    (line,) = batch_line_add(employer=third, agent=city["agents"][third.pk], business_code="transfer_in", row=row(city["person"]))
    batch_complete(batch=line.batch, agent=city["agents"][third.pk])
    second = Application.objects.get(batch=line.batch)
    approve(city, first)
    with pytest.raises(BusinessError, match="已销户或已调出"):
        approve(city, second)
    assert Entry.objects.filter(kind=Entry.Kind.TRANSFER).count() == 1
    assert not Member.objects.filter(employer=third, id_index=city["person"].id_index).exists()


def test_a_zero_balance_moves_the_person_without_an_entry(city):
    newcomer = factories.make_member(city["old"], name="赵零余")
    seal(newcomer, city["agents"][city["old"].pk])
    moved, _ = transfer(city, newcomer)
    assert moved.employer == city["new"] and not Entry.objects.filter(kind=Entry.Kind.TRANSFER).exists()
    assert MemberChange.objects.get(member=moved, field="转入余额").new == "0.00"


def test_confirmation_is_printed_after_approval_with_the_new_account(city, client):
    seal(city["person"], city["agents"][city["old"].pk])
    moved, application = transfer(city)
    batch = application.batch
    batch.refresh_from_db()
    url = transfer_in.print_confirmation(batch=batch, actor=city["agents"][city["new"].pk])
    snapshot = ListPrint.objects.get(kind="member_transfer")
    (printed,) = snapshot.content["table"]["rows"]
    assert printed[0] == moved.account_no and printed[3] == f"{city['old'].account_no} {city['old'].name}" and printed[-1] == "1,440.00"
    assert url == transfer_in.print_confirmation(batch=batch, actor=city["agents"][city["new"].pk])  # the same snapshot again
    assert ListPrint.objects.filter(kind="member_transfer").count() == 1
    response = client.get(reverse("remittance:receipt-verify"), {"no": snapshot.number, "code": snapshot.code})
    assert response.status_code == 200 and snapshot.number in response.content.decode()


def test_confirmation_is_refused_before_approval(city):
    seal(city["person"], city["agents"][city["old"].pk])
    application = submit(city, stage(city, city["person"]))
    with pytest.raises(BusinessError, match="审批通过后"):
        transfer_in.print_confirmation(batch=application.batch, actor=city["agents"][city["new"].pk])


# ---- 单位调整: linked and granted units only ------------------------------------------------------------------------


@pytest.fixture
def group(city):
    linked = EmployerGroup.objects.create(name="示例能源集团")
    for employer in (city["old"], city["new"]):
        employer.group = linked
        employer.save(update_fields=["group"])
    GroupTransferGrant.objects.create(employer=city["new"], source=city["old"])
    return linked


def group_row(member, **kw):
    values = {"source": member.employer.account_no, "account_no": member.account_no, "base": "7000.00", "start_period": "2025-08"}
    values.update(kw)
    return values


def test_dropdown_offers_only_linked_and_granted_units(city, group):
    form = transfer_group.GroupTransferForm(employer=city["new"])
    assert [value for value, _ in form.fields["source"].choices] == ["", city["old"].account_no]
    assert [value for value, _ in transfer_group.GroupTransferForm(employer=city["third"]).fields["source"].choices] == [""]


def test_a_linked_unit_without_a_grant_is_not_offered(city, group):
    GroupTransferGrant.objects.all().delete()
    assert [value for value, _ in transfer_group.GroupTransferForm(employer=city["new"]).fields["source"].choices] == [""]


def test_an_unlinked_unit_is_refused_even_with_a_grant(city, group):
    city["old"].group = None
    city["old"].save(update_fields=["group"])
    with pytest.raises(RowsInvalid, match="转出单位"):
        batch_line_add(employer=city["new"], agent=city["agents"][city["new"].pk], business_code="group_transfer",
                       row=group_row(city["person"]))


def test_group_picker_never_offers_other_units_members(city, group):
    outsider = factories.make_member(city["third"], name="张外单位")
    found = transfer_group.PICKER.search(employer=city["new"], query="张", exclude_ids=None, after="", limit=20)
    assert city["person"] in found and outsider not in found


def test_group_transfer_moves_normal_members_and_names_both_sides(city, group):
    old, new, person, colleague = city["old"], city["new"], city["person"], city["colleague"]
    agent = city["agents"][new.pk]
    (line,) = batch_line_add(employer=new, agent=agent, business_code="group_transfer", row=group_row(person))
    batch_line_add(batch=line.batch, agent=agent, row=group_row(colleague, base="5000.00"))
    application = submit(city, line.batch)
    approve(city, application)
    person.refresh_from_db()
    colleague.refresh_from_db()
    assert person.status == colleague.status == Member.Status.CLOSED
    assert Member.objects.filter(employer=new, status=Member.Status.NORMAL, id_index__in=[person.id_index, colleague.id_index]).count() == 2
    entry = Entry.objects.get(kind=Entry.Kind.TRANSFER)
    assert entry.amount == Decimal("1440.00") + Decimal("1200.00") and entry.headcount == 2
    assert MemberChange.objects.filter(employer=old, member=person, field="转入单位", new=f"{new.account_no} {new.name}").exists()
    assert reconcile() == []


def test_group_transfer_is_refused_when_the_center_unlinks_before_approval(city, group):
    agent = city["agents"][city["new"].pk]
    (line,) = batch_line_add(employer=city["new"], agent=agent, business_code="group_transfer", row=group_row(city["person"]))
    application = submit(city, line.batch)
    GroupTransferGrant.objects.all().delete()
    with pytest.raises(BusinessError, match="未关联或未授权"):
        approve(city, application)
    city["person"].refresh_from_db()
    assert city["person"].status == Member.Status.NORMAL


def test_group_page_without_linked_unit_points_to_transfer_in(city, client):
    factories.login_as(client, city["agents"][city["third"].pk])
    body = client.get(reverse("approvals:business", args=["group_transfer"])).content.decode()
    assert "本单位没有中心关联为同一集团" in body and reverse("approvals:business", args=["transfer_in"]) in body


def test_transfer_in_is_a_tab_after_group_transfer(city, client):
    factories.login_as(client, city["agents"][city["new"].pk])
    body = client.get(reverse("approvals:business", args=["transfer_in"])).content.decode()
    assert body.index("单位调整</a>") < body.index("缴存人调动</a>")


def test_journal_lists_the_transfer_at_both_employers_with_its_direction(city):
    seal(city["person"], city["agents"][city["old"].pk])
    transfer(city)
    span = {"kind": Entry.Kind.TRANSFER, "start": date(2020, 1, 1), "end": date(2030, 1, 1)}
    (out,) = remittance_selectors.journal_list(employer=city["old"], **span)
    (came,) = remittance_selectors.journal_list(employer=city["new"], **span)
    assert out.summary.endswith("转出") and came.summary.endswith("转入") and out.amount == came.amount == Decimal("1440.00")
    assert remittance_selectors.journal_list(employer=city["third"], **span) == []
