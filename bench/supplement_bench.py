"""Benchmark of 补缴 (issue 13): a 5,000-line 补缴 import (read, check, stage into the 清册), 【完成办理】 to the center,
the approval (freezing the 补缴), and 补缴分配 (one entry, a line per member and month). Figures go to
docs/performance.md. Several runs; min / median / max.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gjj_bench .venv/bin/python bench/supplement_bench.py --runs 3
    .venv/bin/python bench/supplement_bench.py --runs 1                # SQLite (a fresh file under /tmp)

The PostgreSQL database named in DATABASE_URL is created when missing and emptied (flush): point it at a scratch database.
Each run uses an employer of its own: 2,500 members assessed for three months, of which 2 months × 2,500 members
(5,000 lines) are 漏缴 of members registered late.
"""

import argparse
import io
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


def build_file(accounts: list[str], months: list[date]) -> bytes:
    from openpyxl import Workbook

    from approvals import registry

    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(registry.get("supplementary").headers)
    for account in accounts:
        for month in months:
            sheet.append([account, "", "漏缴", f"{month:%Y-%m}", "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def one_run(n: int, members: int, results: dict[str, list[float]]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from approvals.models import Application
    from approvals.services import application_pass, batch_complete, batch_import_check
    from members.models import Member
    from remittance import services, supplements
    from remittance.models import Supplement
    from tests import factories

    reviewer = factories.make_reviewer(login_name=f"bench-reviewer-{n}")
    employer = factories.make_employer(account_no=f"9100{n:02d}", name=f"基准测试补缴单位{n}")
    agent = factories.make_agent(employer, login_name="bench")
    add_members(employer, members, 1)  # assessed July–September
    for month in (7, 8, 9):
        services.assessment_create(employer=employer, agent=agent, period=date(2025, month, 1))
    add_members(employer, members, members + 1)  # registered late: started in July, never assessed
    Member.objects.filter(employer=employer, account_no__gt=f"{employer.account_no}{members:07d}").update(start_period=date(2025, 7, 1))
    # the late ones must not be in the July–September assessments: they were added after them
    maintenance()
    late = list(Member.objects.filter(employer=employer).order_by("-account_no").values_list("account_no", flat=True)[:members])
    content = build_file(late, [date(2025, 8, 1), date(2025, 9, 1)])

    def timed(label, func):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            value = func()
            elapsed = time.perf_counter() - started
        results.setdefault(label, []).append(elapsed)
        results.setdefault(f"{label} · queries", []).append(len(queries))
        print(f"  run {n}: {label:<44} {elapsed:8.3f} s  {len(queries):5d} queries", flush=True)
        return value

    lines = len(late) * 2
    record = timed(f"补缴导入 ({lines} 行: read + check + stage)", lambda: batch_import_check(
        employer=employer, agent=agent, business_code="supplementary", file_name="bench.xlsx", content=content))
    assert record.good_count == lines and not record.errors and record.status == record.Status.STAGED, (record.status, record.errors[:3])
    batch = timed("完成办理 (提交中心审批)", lambda: batch_complete(batch=record.batch, agent=agent))
    application = Application.objects.get(batch=batch)
    timed(f"审批通过 ({lines} 行 → 补缴)", lambda: application_pass(application=application, reviewer=reviewer, version=application.version))
    supplement = Supplement.objects.get(application=application)
    services.payment_record(employer=employer, amount=supplement.amount, value_date=date(2025, 10, 5), bank_serial_no=f"BJ-BENCH-{n}",
                            reviewer=reviewer)
    entry = timed(f"补缴分配 ({lines} 行)", lambda: supplements.supplement_allocate(supplement=supplement, agent=agent, idempotency_key=f"bench-{n}"))
    assert entry.amount == supplement.amount and Decimal(entry.amount) > 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=2500, help="late members; the file has two months each")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    engine = fresh_database()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    from remittance.demo import reasons_ensure

    reasons_ensure()  # flush emptied the center's list
    print(f"{engine}: 补缴 of {args.members * 2} lines, {args.runs} runs", flush=True)
    results: dict[str, list[float]] = {}
    for n in range(1, args.runs + 1):
        one_run(n, args.members, results)
    print("\nmin / median / max")
    for label, values in results.items():
        if label.endswith("queries"):
            print(f"  {label:<56} {min(values):6d} / {int(statistics.median(values)):6d} / {max(values):6d}")
        else:
            print(f"  {label:<56} {min(values):6.3f} / {statistics.median(values):6.3f} / {max(values):6.3f} s")


if __name__ == "__main__":
    main()
