"""Benchmark of 年度结息 (issue 16 item 5): 1,000,000 members with 12 months of postings, on PostgreSQL.
Target: ≤ 60 s for the whole center. Figures go to docs/performance.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gjj_bench .venv/bin/python bench/interest_bench.py
    DATABASE_URL=… .venv/bin/python bench/interest_bench.py --members 100000 --employers 20     # smaller

The PostgreSQL database named in DATABASE_URL is created when missing and emptied (flush): point it at a scratch
database. Building the data (members, accounts, 12 monthly 汇缴 postings per employer) is not timed; the 结息 run
is timed --runs times, each on a fresh year's copy: the run's entries are deleted (triggers lifted) between runs.
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
os.environ.setdefault("GJJ_INTEREST_WORKERS", "2")  # as in production (the test settings say 1)

from bench.remittance_bench import add_members, fresh_database, maintenance  # noqa: E402

YEAR = 2025


def build(employers: int, per_employer: int) -> None:
    from gjj_portal.money import month_add
    from members.models import Member
    from remittance.journal import Leg, bank_account, entry_post, member_account_ids
    from remittance.models import Entry
    from tests import factories

    bank = bank_account()
    started = time.perf_counter()
    for n in range(employers):
        employer = factories.make_employer(account_no=f"8{n:05d}", name=f"基准测试结息单位{n}")
        add_members(employer, per_employer, 1)
        members = list(Member.objects.filter(employer=employer).values_list("pk", "monthly_amount"))
        accounts = member_account_ids([pk for pk, _a in members])
        month = date(YEAR, 7, 1)
        for _ in range(12):
            legs = [Leg(accounts[pk], -amount, pk) for pk, amount in members]
            total = sum((amount for _pk, amount in members), Decimal("0.00"))
            entry_post(kind=Entry.Kind.REMITTANCE, employer=employer, summary=f"{month:%Y年%m月}汇缴", legs=[Leg(bank, total), *legs],
                       actor=None, amount=total, headcount=len(members), period=month, posted_on=month.replace(day=15))
            month = month_add(month, 1)
        if n % 10 == 9:
            print(f"  built {n + 1}/{employers} employers ({time.perf_counter() - started:.0f} s)", flush=True)


def undo(year: int) -> None:
    """Remove a run's entries so the next run starts from the same journal (benchmark only)."""
    from django.db import connection

    from remittance.models import Entry, InterestRun

    ids = list(Entry.objects.filter(kind=Entry.Kind.INTEREST, idempotency_key=f"结息-{year}").values_list("pk", flat=True))
    with connection.cursor() as cursor:
        # The balance table first: a run's entries are each employer's last (6/30), so its employers' balances go back
        # to the row before them.
        cursor.execute("DELETE FROM remittance_employerposting WHERE entry_id = ANY(%s)", [ids])
        cursor.execute("""
            UPDATE remittance_employerbalance b
            SET members = p.balance, unallocated = p.unallocated, last_posted_on = p.posted_on, last_entry_id = p.entry_id
            FROM (SELECT DISTINCT ON (employer_id) * FROM remittance_employerposting ORDER BY employer_id, posted_on DESC, entry_id DESC) p
            WHERE p.employer_id = b.employer_id AND b.last_entry_id = ANY(%s)
        """, [ids])
        cursor.execute("ALTER TABLE remittance_line DISABLE TRIGGER USER")
        cursor.execute("ALTER TABLE remittance_entry DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM remittance_line WHERE entry_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM remittance_entry WHERE id = ANY(%s)", [ids])
        cursor.execute("ALTER TABLE remittance_line ENABLE TRIGGER USER")
        cursor.execute("ALTER TABLE remittance_entry ENABLE TRIGGER USER")
    InterestRun.objects.filter(year=year).delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--employers", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    engine = fresh_database()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    from remittance.interest import interest_settle
    from remittance.journal import reconcile
    from remittance.models import Entry, Line

    per_employer = args.members // args.employers
    print(f"{engine}: 年度结息 of {per_employer * args.employers} members at {args.employers} employers, 12 postings each", flush=True)
    build(args.employers, per_employer)
    maintenance()
    print(f"  journal: {Line.objects.count():,} lines", flush=True)
    times = []
    for run in range(1, args.runs + 1):
        started = time.perf_counter()
        result = interest_settle(year=YEAR, today=date(YEAR + 1, 7, 1))
        times.append(time.perf_counter() - started)
        print(f"  run {run}: {times[-1]:8.2f} s  {result.employers} employers, {result.members:,} members, interest {result.interest:,.2f}",
              flush=True)
        assert result.members == per_employer * args.employers
        if run < args.runs:
            undo(YEAR)
            maintenance()
    started = time.perf_counter()
    interest_settle(year=YEAR, today=date(YEAR + 1, 7, 1))
    print(f"  run again (nothing to post):        {time.perf_counter() - started:8.2f} s", flush=True)
    assert Entry.objects.filter(kind=Entry.Kind.INTEREST).count() == args.employers
    print(f"\n年度结息 ({per_employer * args.employers:,} members): min / median / max = "
          f"{min(times):.2f} / {statistics.median(times):.2f} / {max(times):.2f} s", flush=True)
    problems = reconcile()
    print(f"  reconcile: {'ok' if not problems else problems[:3]}")


if __name__ == "__main__":
    main()
