"""Demo data for the monthly cycle (called by `manage.py demo`, inside its transaction).

Employer 100001 has one month assessed, paid and allocated, and the money for the next month
already received, so 汇缴核定 → 汇缴分配 → 汇缴书 can be tried at once. One of its members (蒋文博) joined
two months before the allocated month but was registered only after it: those two months were never
assessed for him, so 补缴 (漏缴) can be walked from the home page (issue 13).

The months before the portal, settled at the counter, are in the journal as one 汇缴 posting a month (on the
15th), so last contribution year's 年度结息 (30 June) is posted with real interest and the 年度对账单 has
something to show (issue 16 item 5).
"""

from datetime import date
from decimal import Decimal

from stdnum.cn import ric

from employers.models import Employer, User
from gjj_portal.money import month_add
from members.models import Member
from members.services import member_open

from .interest import interest_settle, last_settled_year
from .journal import Leg, bank_account, entry_post, member_account_ids
from .models import Entry
from .selectors import assessment_draft, current_period
from .services import allocation_post_nested, assessment_create, payment_record


def reasons_ensure() -> None:
    """The center's default 补缴原因 (migration 0008 seeds them; a flushed database, e.g. a test's, has none)."""
    from importlib import import_module

    from django.apps import apps

    import_module("remittance.migrations.0008_supplementary").reasons_create(apps, None)


def demo_cycle(*, employer_account_no: str = "100001", today: date | None = None) -> Entry:
    reasons_ensure()
    employer = Employer.objects.get(account_no=employer_account_no)
    agent = User.objects.get(employer=employer, login_name="jbr01")
    reviewer = User.objects.get(username="shenhe01")
    current = (today or current_period()).replace(day=1)
    allocated, upcoming = month_add(current, -2), month_add(current, -1)
    # History before the portal: contributions up to three months ago were settled at the counter.
    history = month_add(current, -3)
    _counter_history(employer=employer, last=history)
    settled = last_settled_year(today or current)
    if date(settled + 1, 6, 30) <= (today or current_period()).replace(day=28):
        interest_settle(year=settled, actor=reviewer, today=date(settled + 1, 6, 30))
    Employer.objects.filter(pk=employer.pk).update(paid_up_to=history)
    Member.objects.filter(employer=employer, status=Member.Status.NORMAL).update(paid_up_to=history)
    employer.refresh_from_db()
    assessment = assessment_create(employer=employer, agent=agent, period=allocated)
    payment_record(employer=employer, amount=assessment.amount, value_date=allocated.replace(day=5),
                   bank_serial_no=f"DEMO{allocated:%Y%m}{employer.account_no}", reviewer=reviewer)
    entry = allocation_post_nested(assessment=assessment, agent=agent)
    _missed_member(employer=employer, agent=agent, started=month_add(allocated, -1))
    due_next = assessment_draft(employer=employer, period=upcoming).amount
    payment_record(employer=employer, amount=due_next, value_date=upcoming.replace(day=5),
                   bank_serial_no=f"DEMO{upcoming:%Y%m}{employer.account_no}", reviewer=reviewer)
    return entry


MISSED_NAME = "蒋文博"


def _missed_member(*, employer: Employer, agent: User, started: date) -> Member:
    """A member who started in `started` but was registered after that month's and the next month's 汇缴核定."""
    body = "15060219920315063"
    return member_open(
        employer=employer, agent=agent, name=MISSED_NAME, id_number=body + ric.calc_check_digit(body + "0"),
        gender=Member.Gender.MALE, birth_date=date(1992, 3, 15), base=Decimal("8000.00"),
        employer_rate=employer.employer_rate, member_rate=employer.member_rate, start_period=started, phone="13904771234",
    )


def _counter_history(*, employer: Employer, last: date) -> None:
    """The months from the members' start to `last`, settled at the counter before the portal: one 汇缴 posting
    a month on its 15th, each member credited with the month's amount while open (sealed ones until their seal)."""
    members = list(Member.objects.filter(employer=employer).values_list("pk", "monthly_amount", "start_period", "status"))
    accounts = member_account_ids([pk for pk, *_rest in members])
    sealed_after = date(2025, 9, 1)  # the demo's sealed members left on 2025-09-30
    month = min(start for _pk, _amount, start, _status in members)
    while month <= last:
        legs = [Leg(accounts[pk], -amount, pk) for pk, amount, start, status in members
                if start <= month and (status != Member.Status.SEALED or month <= sealed_after)]
        total = -sum((leg.amount for leg in legs), Decimal("0.00"))
        entry_post(kind=Entry.Kind.REMITTANCE, employer=employer, summary=f"{month:%Y年%m月}汇缴（系统上线前柜台办理）",
                   legs=[Leg(bank_account(), total), *legs], actor=None, amount=total, headcount=len(legs), period=month,
                   posted_on=month.replace(day=15))
        month = month_add(month, 1)


def demo_collection(*, employer_account_no: str) -> None:
    """托收 (issue 16 item 1): the employer signed a 托收协议 that the center approved; the month before last was debited
    and allocated itself; last month's debit failed (余额不足), so 消息 and 待办 offer 重新托收, 变更付款方式 and 撤销核定."""
    from approvals.services import application_pass, form_submit

    from .businesses.collection_agreement import SIGN
    from .collection import debit_run_create, return_apply, return_upload

    employer = Employer.objects.get(account_no=employer_account_no)
    agent = User.objects.get(employer=employer, role=User.Role.AGENT)
    reviewer = User.objects.get(username="shenhe01")
    current = current_period()
    debited, failed = month_add(current, -2), month_add(current, -1)
    Employer.objects.filter(pk=employer.pk).update(paid_up_to=month_add(debited, -1))
    Member.objects.filter(employer=employer).update(paid_up_to=month_add(debited, -1))
    employer.refresh_from_db()
    application = form_submit(employer=employer, agent=agent, business_code=SIGN, row={
        "bank_name": employer.bank_name or "中国工商银行鄂尔多斯分行", "bank_account": employer.bank_account, "account_name": employer.name})
    application_pass(application=application, reviewer=reviewer, version=application.version, opinion="同意签订托收协议")
    for period, result, reason in ((debited, "成功", ""), (failed, "失败", "余额不足")):
        assessment_create(employer=employer, agent=agent, period=period)
        debit = debit_run_create(actor=reviewer).debits.get(employer=employer)
        serial = f"DEMOTS{period:%Y%m}{employer.account_no}" if result == "成功" else ""
        content = ("批次号,扣款编号,协议编号,扣款金额,扣款结果,失败原因,银行流水号\r\n"
                   f"{debit.run.run_no},{debit.number},{debit.agreement_no},{debit.amount:.2f},{result},{reason},{serial}\r\n")
        record, _ = return_upload(file_name=f"回盘-{debit.run.run_no}.csv", content=content.encode("utf-8"), reviewer=reviewer)
        return_apply(record=record, reviewer=reviewer)
