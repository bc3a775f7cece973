"""Benchmark of the 明细账 export (issue 17 item 5): one employer's ledger of 1,000,000 postings as .xlsx, on PostgreSQL.
Target: ≤ 20 s and ≤ 200 MB RSS. Figures go to docs/performance.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gjj_bench_ledger .venv/bin/python bench/ledger_bench.py
    DATABASE_URL=… .venv/bin/python bench/ledger_bench.py --postings 100000 --runs 3     # smaller
    DATABASE_URL=… .venv/bin/python bench/ledger_bench.py --reuse --runs 3 --check        # the journal built before

The PostgreSQL database named in DATABASE_URL is created when missing and emptied (flush): point it at a scratch
database. Building the journal (1,000 members; each posting one member line and the bank's, by INSERT … SELECT over
generate_series) is not timed. Each run exports the whole ledger in a fresh process (`--export`), which reports its
wall time and its peak resident set size (ru_maxrss, Django and the connection included), so that one run's memory
does not hide in another's; the workbook is then opened with openpyxl to check its row count and 合计.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

ACCOUNT_NO = "900001"
MEMBERS = 1000
FIRST, LAST = date(2000, 1, 1), date(2099, 12, 31)


def build(postings: int) -> None:
    from django.db import connection

    from bench.remittance_bench import add_members
    from members.models import Member
    from remittance.journal import bank_account, member_account_ids
    from tests import factories

    employer = factories.make_employer(account_no=ACCOUNT_NO, name="基准测试明细账单位")
    add_members(employer, MEMBERS, 1)
    accounts = member_account_ids(list(Member.objects.filter(employer=employer).values_list("pk", flat=True)))
    bank = bank_account()
    pairs = sorted(accounts.items())  # (member id, account id)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_accounts (n int, member_id int, account_id int)")
        cursor.executemany("INSERT INTO bench_accounts VALUES (%s, %s, %s)", [(n, m, a) for n, (m, a) in enumerate(pairs)])
        # one posting a member: 汇缴 (its month), every fifth a 补缴 (the line's month), 400 postings a day
        cursor.execute("""
            INSERT INTO remittance_entry (serial_no, posted_on, posted_at, kind, summary, employer_id, amount, interest, headcount,
                                          period, idempotency_key)
            SELECT 'B' || lpad(i::text, 12, '0'), DATE '2000-01-01' + (i / 400), now(),
                   CASE WHEN i %% 5 = 0 THEN 'supplementary' ELSE 'remittance' END, '基准测试', %s,
                   100 + (i %% 997) + 0.25, 0, 1,
                   CASE WHEN i %% 5 = 0 THEN NULL ELSE (DATE '2000-01-01' + (i / 400)) - (EXTRACT(DAY FROM DATE '2000-01-01' + (i / 400))::int - 1) END,
                   ''
            FROM generate_series(1, %s) AS i
        """, [employer.pk, postings])
        cursor.execute("""
            INSERT INTO remittance_line (entry_id, account_id, member_id, amount, interest, period)
            SELECT e.id, a.account_id, a.member_id, -e.amount, 0,
                   CASE WHEN e.kind = 'supplementary' THEN DATE '1999-12-01' ELSE NULL END
            FROM remittance_entry e JOIN bench_accounts a ON a.n = (substr(e.serial_no, 2)::bigint %% %s)
            WHERE e.employer_id = %s
            UNION ALL
            SELECT e.id, %s, NULL, e.amount, 0, NULL FROM remittance_entry e WHERE e.employer_id = %s
        """, [MEMBERS, employer.pk, bank.pk, employer.pk])
        cursor.execute("DROP TABLE bench_accounts")
    from remittance.balances import balances_rebuild

    balances_rebuild(employer_ids=[employer.pk])  # the lines above bypassed entry_post: the balance table from them


def export(out_path: str) -> dict:
    """One export in this process: wall time and peak RSS."""
    import django

    django.setup()
    from employers.models import Employer
    from remittance.ledger import ledger_get, ledger_xlsx

    started = time.perf_counter()
    employer = Employer.objects.get(account_no=ACCOUNT_NO)
    ledger = ledger_get(employer=employer, start=FIRST, end=LAST)
    with open(out_path, "w+b") as out:
        ledger_xlsx(ledger, out=out)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rows": ledger.count,
            "amount": str(ledger.amount), "closing": str(ledger.closing), "bytes": os.path.getsize(out_path)}


def check(path: str, expected: dict) -> None:
    """The workbook opens in openpyxl: one row per posting and the 合计 of the ledger."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True)
    rows = total = 0
    for row in wb["明细账"].iter_rows(values_only=True):
        if row and row[0] and str(row[0]).startswith("B"):
            rows += 1
        elif row and row[0] == "合计":
            total = Decimal(str(row[4])).quantize(Decimal("0.01"))
    assert rows == expected["rows"], (rows, expected["rows"])
    assert total == Decimal(expected["amount"]), (total, expected["amount"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postings", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--export", help=argparse.SUPPRESS)  # one run, in a child process
    parser.add_argument("--check", action="store_true", help="open the first workbook with openpyxl and check it")
    parser.add_argument("--reuse", action="store_true", help="export from the journal an earlier run built (no flush, no build)")
    args = parser.parse_args()
    if args.export:
        print(json.dumps(export(args.export)))
        return
    from bench.remittance_bench import fresh_database, maintenance

    engine = fresh_database()
    import django

    django.setup()
    from django.core.management import call_command

    print(f"{engine}: 明细账 export of {args.postings:,} postings ({MEMBERS} members)", flush=True)
    if not args.reuse:
        call_command("migrate", verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
        started = time.perf_counter()
        build(args.postings)
        maintenance()
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    times, peaks, results = [], [], []
    print(f"  load average {os.getloadavg()[0]:.2f} (1 min) before the runs", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        for run in range(1, args.runs + 1):
            path = os.path.join(folder, f"ledger-{run}.xlsx")
            child = subprocess.run([sys.executable, __file__, "--export", path], capture_output=True, text=True, env=os.environ.copy())
            if child.returncode:
                sys.exit(child.stderr)
            result = json.loads(child.stdout.strip().splitlines()[-1])
            results.append((path, result))
            times.append(result["seconds"])
            peaks.append(result["rss_mb"])
            print(f"  run {run}: {result['seconds']:7.2f} s  peak RSS {result['rss_mb']:6.1f} MB  {result['rows']:,} rows  "
                  f"{result['bytes'] / 1e6:.1f} MB xlsx  合计 {Decimal(result['amount']):,.2f}  "
                  f"(load average {os.getloadavg()[0]:.2f})", flush=True)
        if args.check:  # after the runs: a child inherits its parent's peak RSS, and openpyxl's reading would be counted
            check(*results[0])
            print("  openpyxl: rows and 合计 check", flush=True)
    print(f"\n明细账 xlsx ({args.postings:,} postings): min / median / max = {min(times):.2f} / {statistics.median(times):.2f} / "
          f"{max(times):.2f} s; peak RSS min / median / max = {min(peaks):.0f} / {statistics.median(peaks):.0f} / {max(peaks):.0f} MB",
          flush=True)


if __name__ == "__main__":
    main()
