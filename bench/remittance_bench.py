"""Benchmark of the monthly cycle (issue 5): 汇缴核定 of a 50,000-member employer, 汇缴分配,
one 汇缴书 PDF and a 20,000-line 明细 PDF. Figures go to docs/performance.md.

    .venv/bin/python bench/remittance_bench.py                       # SQLite (a fresh file under /tmp)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gjj_bench .venv/bin/python bench/remittance_bench.py

The PostgreSQL database named in DATABASE_URL is created when missing and emptied (flush): point it at a scratch database.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


def fresh_database() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        import psycopg

        parsed = urlparse(url)
        name = parsed.path.lstrip("/")
        admin = url.replace(parsed.path, "/postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
        return f"PostgreSQL ({name})"
    path = Path(os.environ.setdefault("GJJ_SQLITE_PATH", "/tmp/gjj_bench.sqlite3"))
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"SQLite ({path})"


def add_members(employer, count: int, start: int) -> None:
    """Bulk members for the benchmark (no per-row encryption: the cycle never reads the ID number)."""
    from members.models import Member

    rows = []
    for n in range(count):
        base = Decimal(2000 + (n * 37) % 30000) + Decimal("0.50")
        part = (base * Decimal("0.12")).quantize(Decimal("1"))
        rows.append(Member(
            employer=employer, account_no=f"{employer.account_no}{start + n:07d}", name=f"职工{start + n}", id_number_enc="",
            id_index=f"bench-{employer.account_no}-{start + n}", id_masked="150602********0000", gender="M",
            birth_date=date(1990, 1, 1), base=base, employer_rate=Decimal("0.1200"), member_rate=Decimal("0.1200"),
            employer_amount=part + Decimal("0.00"), member_amount=part + Decimal("0.00"), monthly_amount=part * 2 + Decimal("0.00"),
            start_period=date(2025, 7, 1), opened_on=date(2025, 6, 1),
        ))
    Member.objects.bulk_create(rows, batch_size=5000)


def maintenance() -> None:
    """What autovacuum does between two months on a live center: fresh statistics, dead rows reclaimed
    (so next month's 缴至年月 update can be HOT on PostgreSQL)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def timed(label: str, func, results: dict):
    started = time.perf_counter()
    value = func()
    results[label] = time.perf_counter() - started
    print(f"  {label:<40} {results[label]:8.3f} s", flush=True)
    return value


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--detail-lines", type=int, default=20_000)
    parser.add_argument("--slip-runs", type=int, default=20)
    args = parser.parse_args()
    engine = fresh_database()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)  # TRUNCATE on PostgreSQL: an existing scratch database starts empty
    from remittance import services
    from remittance.models import Receipt
    from remittance.receipts import receipt_pdf, render_receipt
    from tests import factories

    print(f"{engine}: {args.members} members, {args.detail_lines}-line detail", flush=True)
    results: dict[str, float] = {}
    reviewer = factories.make_reviewer(login_name="bench-reviewer")
    big = factories.make_employer(account_no="900001", name="基准测试大型单位")
    agent = factories.make_agent(big, login_name="bench")
    add_members(big, args.members, 1)
    maintenance()

    assessment = timed(f"汇缴核定 ({args.members} 人)", lambda: services.assessment_create(employer=big, agent=agent, period=date(2025, 7, 1)), results)
    services.payment_record(employer=big, amount=assessment.amount, value_date=date(2025, 7, 5), bank_serial_no="BENCH-1", reviewer=reviewer)
    entry = timed(f"汇缴分配 ({args.members} 人, 首月建账)", lambda: services.allocation_complete(assessment=assessment, agent=agent, idempotency_key="bench-1"), results)
    maintenance()
    august = services.assessment_create(employer=big, agent=agent, period=date(2025, 8, 1))
    services.payment_record(employer=big, amount=august.amount, value_date=date(2025, 8, 5), bank_serial_no="BENCH-2", reviewer=reviewer)
    timed(f"汇缴分配 ({args.members} 人, 次月)", lambda: services.allocation_complete(assessment=august, agent=agent, idempotency_key="bench-2"), results)

    slip = services.receipt_issue(kind=Receipt.Kind.REMITTANCE, employer=big, entry=entry)
    receipt_pdf(slip, base_url="https://gjj.example.cn/")  # warm-up: font and key loading
    render_times, signed_times = [], []
    for _ in range(args.slip_runs):
        started = time.perf_counter()
        render_receipt(slip, base_url="https://gjj.example.cn/")
        render_times.append(time.perf_counter() - started)
        started = time.perf_counter()
        receipt_pdf(slip, base_url="https://gjj.example.cn/")
        signed_times.append(time.perf_counter() - started)
    results["汇缴书 PDF (render)"] = statistics.median(render_times)
    results["汇缴书 PDF (render + PAdES)"] = statistics.median(signed_times)
    print(f"  {'汇缴书 PDF render, median':<40} {results['汇缴书 PDF (render)'] * 1000:8.1f} ms")
    print(f"  {'汇缴书 PDF render + PAdES, median':<40} {results['汇缴书 PDF (render + PAdES)'] * 1000:8.1f} ms", flush=True)

    mid = factories.make_employer(account_no="900002", name="基准测试明细单位")
    mid_agent = factories.make_agent(mid, login_name="bench")
    add_members(mid, args.detail_lines, 1)
    maintenance()
    detail_assessment = services.assessment_create(employer=mid, agent=mid_agent, period=date(2025, 7, 1))
    services.payment_record(employer=mid, amount=detail_assessment.amount, value_date=date(2025, 7, 5), bank_serial_no="BENCH-3", reviewer=reviewer)
    detail_entry = services.allocation_complete(assessment=detail_assessment, agent=mid_agent, idempotency_key="bench-3")
    detail = timed(f"明细快照 ({args.detail_lines} 行)", lambda: services.receipt_issue(kind=Receipt.Kind.DETAIL, employer=mid, entry=detail_entry), results)
    pdf = timed(f"明细 PDF ({args.detail_lines} 行, render + PAdES)", lambda: receipt_pdf(detail, base_url="https://gjj.example.cn/"), results)
    print(f"  明细 PDF size {len(pdf) / 1024 / 1024:.1f} MB", flush=True)


if __name__ == "__main__":
    main()
