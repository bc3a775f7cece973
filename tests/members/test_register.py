"""缴存人登记 (seed 001 ch.9): row rules, repairs, refusals and 【完成办理】."""

from datetime import date
from decimal import Decimal

import pytest

from approvals.models import Batch, Message
from approvals.services import RowsInvalid, batch_complete, batch_line_add
from employers.models import CenterPolicy
from gjj_portal.bulk import values_in
from gjj_portal.errors import BusinessError
from members.businesses import register
from members.models import Member, MemberChange
from members.services import accounts
from tests.factories import make_employer, make_member, valid_id_number
from tests.members.factories import cjk_name, make_batch, register_row

pytestmark = pytest.mark.django_db


def clean(employer, **kw):
    row = register_row(**kw)
    ctx = register.context(employer=employer, rows=[row])
    return register.clean_row(row, ctx)


def errors_of(result) -> dict[str, str]:
    return dict(result.errors)


def notices_of(result) -> dict[str, str]:
    return dict(result.notices)


def test_valid_row_derives_gender_and_birth_date_from_the_id(employer):
    result = clean(employer, id_number=valid_id_number(birth=date(1988, 2, 29), female=True))
    assert result.ok
    assert result.cleaned["gender"] == "F" and result.cleaned["birth_date"] == "1988-02-29"


def test_id_number_is_never_stored_in_clear_in_the_row_data(employer):
    number = valid_id_number()
    result = clean(employer, id_number=number)
    assert number not in str(result.cleaned) and result.secret["id_number"] == number
    assert result.cleaned["id_masked"] == number[:6] + "********" + number[-4:]


def test_id_with_wrong_check_digit_is_refused(employer):
    number = valid_id_number()
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    assert errors_of(clean(employer, id_number=wrong))["id_number"] == "校验位错误"


def test_check_digit_agrees_with_stdnum_for_every_last_digit_and_x():
    """The MOD 11-2 check digit computed from the digits' code points is stdnum's, for bodies whose
    check digit is each of 0–9 and X."""
    import random

    from stdnum.cn import ric

    from members.validators import check_digit

    rng = random.Random(11643)
    seen = set()
    while len(seen) < 11:
        body = f"110105{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
        expected = ric.calc_check_digit(body + "0")
        assert check_digit(body) == expected
        seen.add(expected)
    with pytest.raises(ValueError):
        check_digit("１１０１０５１９９００１０１００１")  # full-width digits are normalised before, never here


def test_id_with_17_digits_is_refused(employer):
    assert "应为18位" in errors_of(clean(employer, id_number=valid_id_number()[:17]))["id_number"]


def test_id_with_impossible_birth_date_is_refused(employer):
    body = "15060219491332001"
    from stdnum.cn import ric

    assert errors_of(clean(employer, id_number=body + ric.calc_check_digit(body + "0")))["id_number"] == "出生日期无效"


def test_unknown_birthplace_code_is_only_a_warning(employer):
    result = clean(employer, id_number=valid_id_number(region="999999"))
    assert result.ok and "出生地代码" in notices_of(result)["id_number"]


def test_id_that_excel_turned_into_a_number_asks_for_a_text_column(employer):
    message = errors_of(clean(employer, id_number="1.50602E+17"))["id_number"]
    assert "Excel" in message and "文本" in message


def test_full_width_digits_and_spaces_in_id_are_repaired_and_reported(employer):
    number = valid_id_number()
    full_width = " ".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in number)
    result = clean(employer, id_number=full_width)
    assert result.ok and result.secret["id_number"] == number
    assert "全角" in notices_of(result)["id_number"] and "空格" in notices_of(result)["id_number"]


def test_lower_case_x_in_id_is_repaired():
    from tests.factories import make_employer as mk

    employer = mk()
    number = next(valid_id_number(n) for n in range(1, 200) if valid_id_number(n).endswith("X"))
    result = clean(employer, id_number=number.lower())
    assert result.ok and result.secret["id_number"] == number and "小写x" in notices_of(result)["id_number"]


def test_formula_in_a_cell_is_refused(employer):
    assert "公式" in errors_of(clean(employer, name='=HYPERLINK("http://x","y")'))["name"]


def test_phone_must_be_a_mobile_number(employer):
    assert "11位" in errors_of(clean(employer, phone="0477123456"))["phone"]


def test_base_below_floor_is_refused(employer):
    assert "不能低于1,980.00元" in errors_of(clean(employer, base="1979.99"))["base"]


def test_base_above_cap_is_refused(employer):
    assert "不能高于32,592.00元" in errors_of(clean(employer, base="32592.01"))["base"]


def test_thousands_separator_in_base_is_repaired(employer):
    result = clean(employer, base="6,000.00")
    assert result.ok and result.cleaned["base"] == "6000.00" and "6000.00" in notices_of(result)["base"]


def test_rows_with_the_same_terms_each_get_their_own_repairs_and_refusals(employer):
    """Base, rates and month written alike are checked once per file; every such row still reports them."""
    rows = [register_row(name=n, base=b) for n, b in (("甲", "6,000.00"), ("乙", "6,000.00"), ("丙", "100"), ("丁", "100"))]
    ctx = register.context(employer=employer, rows=rows)
    results = [register.clean_row(row, ctx) for row in rows]
    assert [("base" in notices_of(r), "base" in errors_of(r)) for r in results] == [(True, False), (True, False), (False, True), (False, True)]
    assert results[0].cleaned["monthly_amount"] == results[1].cleaned["monthly_amount"] and results[0].cleaned["name"] == "甲"
    assert len(ctx.terms) == 2


@pytest.mark.parametrize("written", ["12", "12%", "0.12", "１２％"])
def test_rates_written_as_12_or_12_percent_or_decimal_mean_12_percent(employer, written):
    result = clean(employer, employer_rate=written, member_rate=written)
    assert result.ok and result.cleaned["employer_rate"] == "0.1200"


@pytest.mark.parametrize(("written", "notice"), [("12%", None), ("12", "已将「12」按 12% 处理"), ("0.12", "已将「0.12」按 12% 处理"),
                                                ("１２％", "已将「１２％」按 12% 处理"), ("10.5", "已将「10.5」按 10.5% 处理")])
def test_a_rate_written_as_the_template_writes_it_is_not_reported_other_forms_are(employer, written, notice):
    CenterPolicy.objects.update(equal_rates=False)
    result = clean(employer, employer_rate=written, member_rate="12%")
    assert result.ok and notices_of(result).get("employer_rate") == notice and "member_rate" not in notices_of(result)


def test_rates_default_to_the_employers_rates(employer):
    result = clean(employer, employer_rate="", member_rate="")
    assert result.ok and result.cleaned["member_rate"] == str(employer.member_rate)


def test_rate_outside_the_policy_range_is_refused(employer):
    assert "5%至12%" in errors_of(clean(employer, employer_rate="13%", member_rate="13%"))["employer_rate"]


def test_unequal_rates_are_refused_when_the_policy_requires_equal_rates(employer):
    assert "须相等" in errors_of(clean(employer, employer_rate="10%", member_rate="12%"))["member_rate"]


def test_unequal_rates_are_accepted_when_the_policy_allows_them(employer):
    CenterPolicy.objects.update(equal_rates=False)
    assert clean(employer, employer_rate="10%", member_rate="12%").ok


def test_monthly_amount_rounds_each_part_half_up_to_the_yuan(employer):
    """条例 第16条：单位、个人部分各自按政策取整（默认四舍五入到元）。 6,004.17 × 12% = 720.50 → 721."""
    result = clean(employer, base="6004.17")
    assert result.cleaned["employer_amount"] == "721.00" and result.cleaned["monthly_amount"] == "1442.00"


def test_monthly_amount_rounds_to_the_fen_when_the_policy_says_so(employer):
    CenterPolicy.objects.update(rounding="fen")
    result = clean(employer, base="6004.17")
    assert result.cleaned["employer_amount"] == "720.50" and result.amount == Decimal("1441.00")


def test_largest_monthly_amount_is_7822(employer):
    assert clean(employer, base="32592.00").amount == Decimal("7822.00")


def test_id_with_open_account_elsewhere_names_the_holder_masked(employer):
    holder = make_employer(account_no="100077", name="鄂尔多斯市示例能源有限公司")
    number = valid_id_number()
    make_member(holder, id_number=number)
    message = errors_of(clean(employer, id_number=number))["id_number"]
    assert message == "该证件号码已在单位 1000** 鄂尔多斯市示例…有限公司 开户，不能重复开户"


def test_id_with_a_sealed_account_is_also_refused(employer):
    number = valid_id_number()
    make_member(employer, id_number=number, status=Member.Status.SEALED)
    assert "已在单位" in errors_of(clean(employer, id_number=number))["id_number"]


def test_id_already_in_the_batch_is_refused(agent):
    number = valid_id_number()
    batch = make_batch(agent, rows=[register_row(id_number=number)])
    with pytest.raises(RowsInvalid) as exc:
        batch_line_add(batch=batch, agent=agent, row=register_row(id_number=number, name="李四"))
    assert exc.value.errors == [("id_number", "已在清册中，不能重复录入")]


def test_complete_opens_accounts_with_numbers_amounts_history_and_a_message(agent):
    rows = [register_row(name="张三"), register_row(name="李四", base="5000")]
    batch = make_batch(agent, rows=rows)
    batch_complete(batch=batch, agent=agent)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.COMPLETED
    members = list(Member.objects.filter(employer=agent.employer).order_by("account_no"))
    assert [m.name for m in members] == ["张三", "李四"]
    assert members[0].account_no == f"{agent.employer.account_no}00001" and members[1].monthly_amount == Decimal("1200.00")
    assert members[0].id_number == rows[0]["id_number"] and members[0].phone == "13904770001"
    assert Member.objects.by_id_number(rows[1]["id_number"]).get() == members[1]
    assert MemberChange.objects.filter(kind="open", batch=batch).count() == 2
    message = Message.objects.get(employer=agent.employer)
    assert message.content == f"尊敬的{agent.display_name}，您已完成办理缴存人登记，共2人，月缴存额合计2,640.00元。"


def test_complete_rechecks_ids_opened_elsewhere_meanwhile(agent):
    number = valid_id_number()
    batch = make_batch(agent, rows=[register_row(id_number=number)])
    make_member(make_employer(), id_number=number)
    with pytest.raises(Exception, match="已在单位"):
        batch_complete(batch=batch, agent=agent)
    batch.refresh_from_db()
    assert batch.status == Batch.Status.DRAFT and not Member.objects.filter(employer=agent.employer).exists()


def test_complete_makes_no_per_row_queries(agent):
    """完成办理 of 3 and of 30 lines run the same statements: nothing is done per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for start, size in ((0, 1), (1, 3), (4, 30)):  # the first one finds the employer without members
        batch = make_batch(agent, rows=[register_row(name=cjk_name("职工", i)) for i in range(start, start + size)])
        with CaptureQueriesContext(connection) as queries:
            batch_complete(batch=batch, agent=agent)
        counts.append(len(queries))
    assert counts[1] == counts[2] and Member.objects.filter(employer=agent.employer).count() == 34


def test_account_numbers_keep_growing_past_five_digits(employer):
    from members.services import member_account_numbers

    member = make_member(employer)
    Member.objects.filter(pk=member.pk).update(account_no=f"{employer.account_no}99999")
    other = make_member(employer)
    assert other.account_no == f"{employer.account_no}100000"
    assert member_account_numbers(employer=employer, count=2) == [f"{employer.account_no}100001", f"{employer.account_no}100002"]


def test_complete_across_the_five_digit_boundary_records_every_member(agent):
    member = make_member(agent.employer)
    Member.objects.filter(pk=member.pk).update(account_no=f"{agent.employer.account_no}99999")
    batch = make_batch(agent, rows=[register_row(name="甲"), register_row(name="乙")])
    batch_complete(batch=batch, agent=agent)
    assert MemberChange.objects.filter(batch=batch).count() == 2
    assert set(Member.objects.filter(name__in=["甲", "乙"]).values_list("account_no", flat=True)) == {
        f"{agent.employer.account_no}100000", f"{agent.employer.account_no}100001"}


def test_the_database_holds_one_open_account_per_person(employer):
    """members_member_one_open_account: a second open (normal or sealed) account for the same ID is refused by the
    database itself, whatever the code above it does; a closed one may stay beside a new one."""
    import uuid

    from django.db import IntegrityError, transaction

    first = make_member(employer, id_number=valid_id_number())
    twin = Member.objects.get(pk=first.pk)
    twin.pk, twin.uuid, twin.account_no = None, uuid.uuid4(), first.account_no + "9"
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()
    Member.objects.filter(pk=first.pk).update(status=Member.Status.CLOSED)
    twin.save()  # the earlier account is closed: a new one may open


def test_an_id_opened_elsewhere_at_the_same_moment_stops_the_whole_completion(agent, monkeypatch):
    """Two employers completing at once: the re-check cannot see the other's uncommitted accounts, the database
    index can; the batch then opens nothing and says why."""
    number = valid_id_number()
    batch = make_batch(agent, rows=[register_row(), register_row(id_number=number)])
    make_member(make_employer(), id_number=number)  # the other employer's account, committed just now
    monkeypatch.setattr(accounts, "member_open_accounts", lambda indexes: {})  # as the re-check saw it a moment earlier
    with pytest.raises(BusinessError, match="刚刚在其他单位开户"):
        batch_complete(batch=batch, agent=agent)
    assert not Member.objects.filter(employer=agent.employer).exists()
    batch.refresh_from_db()
    assert batch.status == batch.Status.DRAFT


def test_a_look_up_of_open_accounts_by_id_number_can_use_the_one_open_account_index(employer):
    """id_index has no index of its own: the partial unique index serves the look-ups, which always exclude closed
    accounts. (The planner is told not to scan the table, so a small test table still shows what it can use.)"""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    number = valid_id_number()
    make_member(employer, id_number=number)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plans = [
        Member.objects.by_id_number(number).exclude(status=Member.Status.CLOSED).explain(),
        Member.objects.filter(id_index__in=values_in(Member, [Member.objects.get().id_index]))
        .exclude(status=Member.Status.CLOSED).explain(),
    ]
    assert all("members_member_one_open_account" in plan for plan in plans), plans


def test_a_start_month_already_assessed_is_refused_with_what_to_do(agent):
    """起缴年月 2026-1 for a month the employer has assessed would leave the member out of every month up to the next
    one to assess with nothing to say so: refused, naming the next month and 补缴 (issue 15 item 6)."""
    from datetime import date

    ctx = register.context(employer=agent.employer, batch=None, rows=[])
    ctx.next_period = date(2026, 3, 1)
    refused = register.clean_row(register_row(start_period="2026-1"), ctx)
    assert refused.errors[0][0] == "start_period" and "2026年03月" in refused.errors[0][1] and "补缴" in refused.errors[0][1]
    assert register.clean_row(register_row(start_period="2026-03"), ctx).ok


def test_completion_refuses_a_line_whose_month_was_assessed_meanwhile(agent, monkeypatch):
    from datetime import date

    batch = make_batch(agent, rows=[register_row(name="先录甲", start_period="2026-01")])
    monkeypatch.setattr(register, "employer_next_period", lambda *, employer: date(2026, 2, 1))
    with pytest.raises(BusinessError, match="清册第1行（先录甲）：起缴年月不能早于2026年02月"):
        batch_complete(batch=batch, agent=agent)
    assert not Member.objects.filter(employer=agent.employer).exists()
