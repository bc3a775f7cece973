"""Benchmark of 年度基数调整 (issue 17): the whole roster of 50,000 normal members imported back (read, row rules,
the whole-file rule that every normal member is present, sealed and staged into the 清册), 【申报确认】 (the whole-清册
check) and the center's approval (50,000 new bases in force from July). Figures go to docs/performance.md.
Several runs, each with an employer of its own; min / median / max.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gjj_annual_bench .venv/bin/python bench/annual_base_bench.py --runs 3
    .venv/bin/python bench/annual_base_bench.py --runs 1                # SQLite (a fresh file under /tmp)

The PostgreSQL database named in DATABASE_URL is created when missing and emptied (flush): point it at a scratch database.
"""

import argparse
import io
import os
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from bench.remittance_bench import add_members, fresh_database, maintenance  # noqa: E402

IMPORT = "导入校验 (read + check + whole file + stage)"


def build_file(roster: list[tuple[str, str]]) -> bytes:
    """The roster as the agent fills it: every normal member, a wage each (every 50th below the floor, every 70th above
    the cap, so the notices are part of the run)."""
    from openpyxl import Workbook

    from approvals import registry

    book = Workbook(write_only=True)
    sheet = book.create_sheet("清册")
    sheet.append(registry.get("annual_base").headers)
    for n, (account_no, base) in enumerate(roster):
        wage = "1500.00" if n % 50 == 0 else "45000.00" if n % 70 == 0 else f"{3000 + (n * 53) % 20000}.00"
        sheet.append([account_no, "", base, wage])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def one_run(n: int, members: int, results: dict[str, list[float]]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from approvals.models import Application
    from approvals.services import application_pass, batch_complete, batch_import_check
    from members.models import Member, MemberChange
    from tests import factories

    reviewer = factories.make_reviewer(login_name=f"bench-reviewer-{n}")
    employer = factories.make_employer(account_no=f"9200{n:02d}", name=f"基准测试年度调整单位{n}", paid_up_to=date(2026, 6, 1))
    agent = factories.make_agent(employer, login_name="bench")
    add_members(employer, members, 1)
    maintenance()
    roster = [(a, str(b)) for a, b in Member.objects.filter(employer=employer).order_by("account_no").values_list("account_no", "base")]
    content = build_file(roster)

    def timed(label, func):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            value = func()
            elapsed = time.perf_counter() - started
        results.setdefault(label, []).append(elapsed)
        results.setdefault(f"{label} · queries", []).append(len(queries))
        print(f"  run {n}: {label:<52} {elapsed:8.3f} s  {len(queries):5d} queries", flush=True)
        return value

    record = timed(IMPORT, lambda: batch_import_check(employer=employer, agent=agent, business_code="annual_base",
                                                      file_name="名单.xlsx", content=content))
    assert record.status == record.Status.STAGED and record.good_count == members and not record.errors, (record.status, record.errors[:3])
    assert len(record.notices) > members // 50
    batch = timed("申报确认 (whole-清册 check, to the center)", lambda: batch_complete(batch=record.batch, agent=agent))
    application = Application.objects.get(batch=batch)
    timed(f"审批通过 ({members} bases in force from July)",
          lambda: application_pass(application=application, reviewer=reviewer, version=application.version))
    assert MemberChange.objects.filter(batch_id=batch.pk, field="缴存基数", effective_period=date(2026, 7, 1)).count() > members * 0.9

    # the whole-file rule on a file without two members: named, nothing staged
    other = factories.make_employer(account_no=f"9300{n:02d}", name=f"基准测试缺人单位{n}", paid_up_to=date(2026, 6, 1))
    other_agent = factories.make_agent(other, login_name="bench")
    add_members(other, members, 1)
    maintenance()
    roster = [(a, str(b)) for a, b in Member.objects.filter(employer=other).order_by("account_no").values_list("account_no", "base")]
    short = build_file(roster[:100] + roster[102:])
    record = timed(f"{IMPORT}, two members missing", lambda: batch_import_check(
        employer=other, agent=other_agent, business_code="annual_base", file_name="名单.xlsx", content=short))
    assert record.status == record.Status.CHECKED and "共2人" in record.errors[0]["message"], record.errors[:1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    engine = fresh_database()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.utils import timezone

    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    from employers.models import CenterPolicy
    from gjj_portal import parallel
    from tests import factories

    factories.make_center()
    factories.make_policies()
    today = timezone.localdate()
    CenterPolicy.objects.filter(year=2026).update(annual_base_start=today - timedelta(days=1), annual_base_end=today + timedelta(days=30))
    print(f"{engine}: 年度基数调整 of {args.members} members, {args.runs} runs, check on {parallel.processes()} processes", flush=True)
    results: dict[str, list[float]] = {}
    for n in range(1, args.runs + 1):
        one_run(n, args.members, results)
    print("\nmin / median / max")
    for label, values in results.items():
        if label.endswith("queries"):
            print(f"  {label:<64} {min(values):6d} / {int(statistics.median(values)):6d} / {max(values):6d}")
        else:
            print(f"  {label:<64} {min(values):6.3f} / {statistics.median(values):6.3f} / {max(values):6.3f} s")


if __name__ == "__main__":
    main()
