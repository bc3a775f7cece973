"""Benchmark of 单位账户信息查询 and 未分配金额 with the balance table (issue 18), on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gjj_bench_balances .venv/bin/python bench/balance_bench.py
    DATABASE_URL=… .venv/bin/python bench/balance_bench.py --big 20000 --others 5 --other-members 2000   # smaller

The PostgreSQL database named in DATABASE_URL is created when missing and emptied (flush): point it at a scratch
database. One big employer and several others get 12 months of 缴款 and 汇缴 through entry_post (so the journal
holds big × 12 + others × other-members × 12 member lines). Then, on the big employer, for a quarter: the query as
it was (the whole history's lines summed for the opening balance, the period's lines grouped by posting) against
the balance table, each with EXPLAIN (ANALYZE, BUFFERS); 未分配金额 both ways; the write cost of the table in
entry_post; and a full rebuild (what migration 0011 does on an existing database) and check.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from bench.remittance_bench import add_members, fresh_database, maintenance  # noqa: E402

FIRST = date(2025, 7, 1)
ZERO = Decimal("0.00")


def build(employer, members: int, post_times: list[float]) -> None:
    from gjj_portal.money import month_add
    from members.models import Member
    from remittance import journal
    from remittance.journal import Leg, bank_account, entry_post, member_account_ids, unallocated_account
    from remittance.models import Entry

    add_members(employer, members, 1)
    rows = list(Member.objects.filter(employer=employer).values_list("pk", "monthly_amount"))
    accounts = member_account_ids([pk for pk, _a in rows])
    total = sum((amount for _pk, amount in rows), ZERO)
    bank, unallocated = bank_account(), unallocated_account(employer)
    original = journal.balances_post

    def timed_post(entry):
        started = time.perf_counter()
        original(entry)
        post_times.append(time.perf_counter() - started)

    month = FIRST
    for _ in range(12):
        entry_post(kind=Entry.Kind.PAYMENT, employer=employer, summary=f"缴款 {month:%Y%m}", actor=None, amount=total + 100,
                   legs=[Leg(bank, total + 100), Leg(unallocated, -(total + 100))], posted_on=month.replace(day=5))
        legs = [Leg(unallocated, total)] + [Leg(accounts[pk], -amount, pk) for pk, amount in rows]
        journal.balances_post = timed_post  # the balance table's share of the posting, timed
        try:
            entry_post(kind=Entry.Kind.REMITTANCE, employer=employer, summary=f"{month:%Y年%m月}汇缴", legs=legs, actor=None,
                       amount=total, headcount=len(rows), period=month, posted_on=month.replace(day=15))
        finally:
            journal.balances_post = original
        month = month_add(month, 1)


def old_querysets(employer, start: date, end: date):
    """单位账户信息查询 as it read the journal before the balance table (remittance.selectors.account_changes at 37e09e2)."""
    from django.db.models import Q, Sum

    from remittance.models import Account, Line

    lines = Line.objects.filter(account__employer=employer, account__kind__in=[Account.Kind.MEMBER, Account.Kind.UNALLOCATED])
    member, unallocated = Q(account__kind=Account.Kind.MEMBER), Q(account__kind=Account.Kind.UNALLOCATED)
    before = lines.filter(entry__posted_on__lt=start)
    before_sums = {"members": Sum("amount", filter=member, default=ZERO), "unallocated": Sum("amount", filter=unallocated, default=ZERO)}
    postings = (
        lines.filter(entry__posted_on__range=(start, end))
        .values("entry_id", "entry__posted_on", "entry__serial_no", "entry__kind", "entry__summary")
        .annotate(credits=Sum("amount", filter=member & Q(amount__lt=0), default=ZERO),
                  debits=Sum("amount", filter=member & Q(amount__gt=0), default=ZERO),
                  unallocated=Sum("amount", filter=unallocated, default=ZERO))
        .order_by("entry__posted_on", "entry_id")
    )
    return before, before_sums, postings


def old_account_changes(employer, start: date, end: date):
    before, sums, postings = old_querysets(employer, start, end)
    return before.aggregate(**sums), list(postings)


def old_unallocated(employer) -> Decimal:
    from django.db.models import Sum

    from remittance.models import Account, Line

    return -Line.objects.filter(account__kind=Account.Kind.UNALLOCATED, account__employer=employer).aggregate(
        total=Sum("amount", default=ZERO))["total"]


def explain(label: str, queryset) -> None:
    print(f"\n--- EXPLAIN (ANALYZE, BUFFERS) {label}", flush=True)
    print(queryset.explain(analyze=True, buffers=True), flush=True)


def best_of(func, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        func()
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--big", type=int, default=150_000, help="members of the big employer")
    parser.add_argument("--others", type=int, default=25, help="other employers")
    parser.add_argument("--other-members", type=int, default=5_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    engine = fresh_database()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    from remittance.balances import balances_check, balances_rebuild
    from remittance.models import EmployerPosting, Line
    from remittance.selectors import account_changes, employer_unallocated
    from tests import factories

    started = time.perf_counter()
    post_times: list[float] = []
    big = factories.make_employer(account_no="700000", name="基准测试大单位")
    build(big, args.big, post_times)
    for n in range(args.others):
        build(factories.make_employer(account_no=f"7{n + 1:05d}", name=f"基准测试单位{n + 1}"), args.other_members, [])
        if n % 5 == 4:
            print(f"  built {n + 1}/{args.others} other employers ({time.perf_counter() - started:.0f} s)", flush=True)
    maintenance()
    print(f"{engine}: built in {time.perf_counter() - started:.0f} s; journal {Line.objects.count():,} lines, "
          f"balance table {EmployerPosting.objects.count():,} rows", flush=True)
    print(f"  balances_post of one {args.big:,}-member 汇缴 (aggregate its lines, lock, one row): median "
          f"{statistics.median(post_times) * 1000:.0f} ms, max {max(post_times) * 1000:.0f} ms", flush=True)

    start, end = date(2026, 4, 1), date(2026, 6, 30)
    new = account_changes(employer=big, start=start, end=end)
    opening, rows = old_account_changes(big, start, end)
    assert new.opening == -opening["members"] and new.opening_unallocated == -opening["unallocated"], (new.opening, opening)
    assert [r.serial_no for r in new.rows] == [r["entry__serial_no"] for r in rows]
    assert employer_unallocated(employer=big) == old_unallocated(big)

    median, worst = best_of(lambda: old_account_changes(big, start, end), max(2, args.runs // 2))
    print(f"\n单位账户信息查询 {start}–{end}, {args.big:,} members, before (sum of lines): median {median:.3f} s, max {worst:.3f} s")
    median, worst = best_of(lambda: account_changes(employer=big, start=start, end=end), args.runs)
    print(f"单位账户信息查询 {start}–{end}, {args.big:,} members, after (balance table): median {median * 1000:.1f} ms, max {worst * 1000:.1f} ms")
    median, worst = best_of(lambda: old_unallocated(big), args.runs)
    print(f"未分配金额 before (sum of lines): median {median * 1000:.1f} ms, max {worst * 1000:.1f} ms")
    median, worst = best_of(lambda: employer_unallocated(employer=big), args.runs)
    print(f"未分配金额 after (EmployerBalance): median {median * 1000:.2f} ms, max {worst * 1000:.2f} ms", flush=True)

    before, sums, postings = old_querysets(big, start, end)
    explain("before: opening balance (every line before the period)", before.values("account__employer").annotate(**sums))
    explain("before: the period's postings", postings)
    table = EmployerPosting.objects.filter(employer=big)
    explain("after: opening balance", table.filter(posted_on__lt=start).order_by("-posted_on", "-entry_id").values("balance", "unallocated")[:1])
    explain("after: the period's postings", table.filter(posted_on__range=(start, end)).order_by("posted_on", "entry_id").values(
        "posted_on", "entry__serial_no", "entry__kind", "entry__summary", "increase", "decrease", "balance", "unallocated"))

    started = time.perf_counter()
    written = balances_rebuild()
    print(f"\nbalances_rebuild (all employers, as migration 0011 fills an existing database): {written:,} rows in "
          f"{time.perf_counter() - started:.1f} s", flush=True)
    started = time.perf_counter()
    problems = balances_check()
    print(f"balances_check: {'ok' if not problems else problems[:3]} in {time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
