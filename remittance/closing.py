"""The conditions of 单位注销 (issue 17) that need the members and the journal: employers may not import them, so
remittance registers this check at start-up (remittance/apps.py → employers.closing.closing_check_register).

Every member transferred out or sealed (none still contributing), every member's balance and the 未分配金额 at 0
(from the balance table, kept with every posting), and no money pending: an assessed month not allocated, an approved 补缴
waiting for its money, a debit at the bank, an active 托收协议. Each unmet one links to the page that clears it.
A few queries on indexes, the kept headcount and the balance table, whatever the headcount and the history."""

from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import Round  # SQLite adds decimals as floats: 0.1 + 0.2 - 0.3 is not 0 there
from django.urls import reverse

from employers.closing import Condition
from employers.models import Employer
from gjj_portal.money import format_period
from gjj_portal.prepared import counted, prepared
from gjj_portal.templatetags.gjj import yuan
from members.selectors import member_counts

from .collection import agreement_active
from .models import Account, Assessment, Debit, EmployerBalance, EmployerPosting, Line, Supplement

ZERO = Decimal("0.00")
SEAL = "member_seal"  # members/businesses/seal.py
CANCEL_AGREEMENT = "debit_agreement_cancel"  # remittance/businesses/collection_agreement.py


def _members(employer: Employer) -> tuple[list[Condition], int]:
    """The members still contributing, and the count of those not transferred out (normal or sealed): from the kept
    headcount (members.headcount, written with every member in the same transaction), a few rows whatever the
    headcount."""
    counts = member_counts(employer=employer)
    counts["open"] = counts["normal"] + counts["sealed"]
    if not counts["normal"]:
        return [], counts["open"]
    return [Condition("members_normal", f"尚有{counts['normal']}名职工为正常缴存状态，须全部调出或封存",
                      reverse("approvals:business", args=[SEAL]), "办理封存")], counts["open"]


BALANCES_TEXT = "须办理转出（由调入单位办理缴存人调动）或由中心办理提取后余额为0"


def _balance_row(employer: Employer) -> tuple[Decimal, Decimal]:
    """(members' accounts at the employer, 未分配金额): its one row of the balance table, read once for both checks."""
    found = _BALANCE_ROW(employer_id=employer.pk)
    return (ZERO, ZERO) if not found else (found[0][0] + ZERO, found[0][1] + ZERO)


# The checks' reads, compiled once per process (gjj_portal.prepared): the page runs them all on every view.
_BALANCE_ROW = prepared(lambda employer_id: EmployerBalance.objects.filter(employer=employer_id).values_list("members", "unallocated")[:1])
_ASSESSED_MONTHS = prepared(lambda employer_id: Assessment.objects.filter(employer=employer_id, status=Assessment.Status.ASSESSED)
                            .order_by("period").values_list("period"))
_SUPPLEMENTS_WAITING = prepared(lambda employer_id: Supplement.objects.filter(employer=employer_id, status=Supplement.Status.APPROVED)
                                .order_by().values("employer").annotate(count=Count("pk"), total=Sum("amount", default=ZERO))
                                .values_list("count", "total"))
_DEBITS_ISSUED = prepared(lambda employer_id: counted(Debit.objects.filter(employer=employer_id, status=Debit.Status.ISSUED)))


def _balances(employer: Employer, *, open_members: int, total: Decimal) -> list[Condition]:
    """Members whose account at this employer holds money (a credit balance is the negative sum of its lines).

    The members' total is one row of the balance table. A member's account is only ever debited by moving its whole
    balance out (内部转移; there are no withdrawals yet), so no balance is negative and a total of 0 means every
    balance is 0. That is checked, not assumed, but only where it is cheap: when the total is 0, the accounts ever
    debited (the lines of the employer's postings that lowered its members' accounts, found through the balance
    table) are summed; only if one of them is below 0 is every account summed to name the members."""
    link = (reverse("remittance:ledger"), "查看明细账")
    if total != ZERO:
        return [Condition("member_balances", f"职工个人账户余额合计{yuan(total + ZERO)}元不为0（尚有{open_members}名职工未转出），"
                                             + BALANCES_TEXT, *link)]
    lowered = EmployerPosting.objects.filter(employer=employer, decrease__gt=0).values("entry_id")
    member_lines = Line.objects.filter(account__kind=Account.Kind.MEMBER, account__employer=employer)
    debited = member_lines.filter(entry_id__in=lowered, amount__gt=0).values("account_id")
    if not member_lines.filter(account_id__in=debited).values("account_id").annotate(total=Round(Sum("amount"), 2)).filter(total__gt=0).exists():
        return []
    totals = list(member_lines.values("account_id").annotate(total=Round(Sum("amount", default=ZERO), 2)).exclude(total=0)
                  .values_list("total", flat=True))
    people, total = len(totals), -sum(totals, ZERO) + ZERO
    return [Condition("member_balances", f"尚有{people}名职工个人账户余额不为0（合计{yuan(total)}元），" + BALANCES_TEXT, *link)]


def _unallocated(left: Decimal) -> list[Condition]:
    if left == ZERO:
        return []
    return [Condition("unallocated", f"单位未分配金额为{yuan(left)}元，须为0：请办理汇缴分配或补缴分配，多缴的金额请联系中心办理退款",
                      reverse("remittance:allocate-list"), "办理汇缴分配")]


def _months(employer: Employer) -> list[Condition]:
    periods = [period for (period,) in _ASSESSED_MONTHS(employer_id=employer.pk)]
    if not periods:
        return []
    named = "、".join(format_period(p) for p in periods[:6]) + ("等" if len(periods) > 6 else "")
    return [Condition("assessed_unallocated", f"{named}共{len(periods)}个月已汇缴核定尚未分配，请办理汇缴分配或删除核定",
                      reverse("remittance:assessment-list"), "汇缴核定查询")]


def _supplements(employer: Employer) -> list[Condition]:
    found = _SUPPLEMENTS_WAITING(employer_id=employer.pk)  # one row (count, total) when any waits, else none
    if not found:
        return []
    count, total = found[0]
    return [Condition("supplement_waiting", f"{count}笔已审批的补缴（合计{yuan(total + ZERO)}元）待分配，请办理补缴分配",
                      reverse("remittance:supplement-list"), "办理补缴分配")]


def _collection(employer: Employer) -> list[Condition]:
    conditions = []
    issued = _DEBITS_ISSUED(employer_id=employer.pk)[0][0]
    if issued:
        conditions.append(Condition("debit_in_flight", f"{issued}笔托收扣款正在银行处理，请等待扣款结果",
                                    reverse("remittance:debit-home"), "查看托收"))
    if agreement_active(employer=employer) is not None:
        conditions.append(Condition("debit_agreement", "本单位的托收协议仍然有效，请先撤销托收协议",
                                    reverse("approvals:business", args=[CANCEL_AGREEMENT]), "撤销托收协议"))
    return conditions


def closing_conditions(*, employer: Employer) -> list[Condition]:
    """The members', the journal's and the months' conditions of 单位注销, in the order an agent clears them."""
    members, open_members = _members(employer)
    total, unallocated = _balance_row(employer)
    return [*members, *_months(employer), *_supplements(employer), *_collection(employer), *_unallocated(unallocated),
            *_balances(employer, open_members=open_members, total=total)]
