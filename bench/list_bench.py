"""Benchmark of the list pages at city scale (issue 18): an employer of 50,000 members among ~2,000 employers
and ~340,000 members, its journal, its change history and a 50,000-line 清册. Figures go to docs/performance.md.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gjj_paging .venv/bin/python bench/list_bench.py build
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gjj_paging .venv/bin/python bench/list_bench.py measure [--explain]

`build` empties the database named in DATABASE_URL (flush) and fills it; point it at a scratch database.
`measure` times each page as the large employer's agent (one client, warm; median and max of --runs), the first
page and a page deep in the list, and with --explain prints EXPLAIN (ANALYZE, BUFFERS) of each page's slowest query.
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

from bench.remittance_bench import add_members, fresh_database, maintenance  # noqa: E402

BIG = "900001"
BIG_MEMBERS = 50_000
MID_EMPLOYERS, MID_MEMBERS = 300, 800
SMALL_EMPLOYERS, SMALL_MEMBERS = 1_700, 30


def _history(employer, when: datetime) -> None:
    """开户 history of every member of the employer (the 账户状态变更查询 rows), one per member."""
    from members.models import Member, MemberChange

    rows = [MemberChange(member_id=pk, employer=employer, kind=MemberChange.Kind.OPEN, field="账户状态", new="正常", reason="开户",
                         at=when + timedelta(seconds=n))
            for n, pk in enumerate(Member.objects.filter(employer=employer).values_list("pk", flat=True))]
    MemberChange.objects.bulk_create(rows, batch_size=5000)


def _remit(employer, months: int) -> None:
    from gjj_portal.money import month_add
    from members.models import Member
    from remittance.journal import Leg, bank_account, entry_post, member_account_ids
    from remittance.models import Entry

    members = list(Member.objects.filter(employer=employer).values_list("pk", "monthly_amount"))
    accounts = member_account_ids([pk for pk, _a in members])
    month = date(2025, 7, 1)
    for _ in range(months):
        legs = [Leg(accounts[pk], -amount, pk) for pk, amount in members]
        total = sum((amount for _pk, amount in members), Decimal("0.00"))
        entry_post(kind=Entry.Kind.REMITTANCE, employer=employer, summary=f"{month:%Y年%m月}汇缴", legs=[Leg(bank_account(), total), *legs],
                   actor=None, amount=total, headcount=len(members), period=month, posted_on=month.replace(day=15))
        month = month_add(month, 1)


def build() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    from tests import factories

    started = time.perf_counter()
    factories.make_reviewer(login_name="bench-reviewer")
    big = factories.make_employer(account_no=BIG, name="基准测试大型单位")
    agent = factories.make_agent(big, login_name="bench")
    add_members(big, BIG_MEMBERS, 1)
    _history(big, datetime(2025, 6, 1, tzinfo=UTC))
    for n in range(MID_EMPLOYERS + SMALL_EMPLOYERS):
        employer = factories.make_employer(account_no=f"7{n:05d}", name=f"基准测试单位{n}")
        size = MID_MEMBERS if n < MID_EMPLOYERS else SMALL_MEMBERS
        add_members(employer, size, 1)
        _history(employer, datetime(2025, 6, 1, tzinfo=UTC) + timedelta(hours=n))
        if n < 100:
            _remit(employer, 12)
        if n % 200 == 199:
            print(f"  {n + 1} employers ({time.perf_counter() - started:.0f} s)", flush=True)
    maintenance()
    _remit(big, 12)
    print(f"  journal posted ({time.perf_counter() - started:.0f} s)", flush=True)
    finish(big, agent)


def finish(big, agent) -> None:
    """An assessment (汇缴核定查询) and a 50,000-line 清册 of the large employer."""
    from approvals.models import BatchLine
    from approvals.services.batch import batch_line_add
    from members.models import Member
    from remittance import selectors, services

    started = time.perf_counter()
    services.assessment_create(employer=big, agent=agent, period=selectors.assessment_next_period(employer=big))
    # a 50,000-line 封存 清册: one line through the service, the rest copied from it
    first = Member.objects.filter(employer=big).order_by("account_no").first()
    line = batch_line_add(employer=big, agent=agent, business_code="member_seal", row={"account_no": first.account_no, "reason": "辞职"})[0]
    rows = [BatchLine(batch_id=line.batch_id, row_no=n + 2, key=account_no, member_id=pk, data={**line.data, "account_no": account_no},
                      amount=line.amount)
            for n, (pk, account_no) in enumerate(Member.objects.filter(employer=big).exclude(pk=first.pk).order_by("account_no")
                                                 .values_list("pk", "account_no"))]
    BatchLine.objects.bulk_create(rows, batch_size=5000)
    maintenance()
    print(f"built in {time.perf_counter() - started:.0f} s: {Member.objects.count()} members", flush=True)


PAGES = [
    ("缴存人账户信息 首页", "members:query", [], {}),
    ("缴存人账户信息 按姓名", "members:query", [], {"query": "职工4999"}),
    ("账户状态变更查询", "members:status-query", [], {}),
    ("客户信息变更查询", "members:change-query", [], {}),
    ("业务流水查询 (一年)", "remittance:journal-query", [], {"kind": "remittance", "start": "2025-07-01", "end": "2026-06-30"}),
    ("汇缴核定查询", "remittance:assessment-list", [], {}),
    ("首页", "home", [], {}),
]


def _deep_params(queryset, order, number: int, size: int, names) -> dict:
    """The query of page `number`: its cursor (the sort key of the row before it) where the list is keyset-paged,
    else the page number (the code before issue 18, measured from a checkout of that commit)."""
    try:
        from gjj_portal.paging import encode_cursor
    except ImportError:
        return {names[1]: str(number)}
    return {names[0]: encode_cursor(queryset.order_by(*order)[(number - 1) * size - 1], order)}


def measure(runs: int, explain: bool) -> None:
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from approvals.models import Batch
    from employers.models import User
    from members.models import Member
    from tests.factories import login_as

    client = Client()
    login_as(client, User.objects.get(login_name="bench", employer__account_no=BIG))
    batch = Batch.objects.get(employer__account_no=BIG, business_code="member_seal")
    pages = list(PAGES)
    pages.append(("缴存人账户信息 第2,400页", "members:query", [], _deep_params(Member.objects.filter(employer=batch.employer_id),
                                                                          ("account_no",), 2_400, 20, ("after", "page"))))
    pages.append(("清册 首页", "approvals:batch-detail", [batch.pk], {}))
    pages.append(("清册 末页 (第1,000页)", "approvals:batch-detail", [batch.pk],
                  _deep_params(batch.lines.all(), ("row_no", "pk"), 1_000, 50, ("lines_after", "page"))))
    for label, name, args, params in pages:
        url = reverse(name, args=args)
        client.get(url, params)
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            with CaptureQueriesContext(connection) as queries:
                response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
        slowest = max(queries.captured_queries, key=lambda q: float(q["time"]))
        print(f"  {label:<28} {response.status_code} median {statistics.median(times):8.1f} ms  max {max(times):8.1f} ms  "
              f"{len(queries)} queries, slowest {float(slowest['time']) * 1000:.1f} ms", flush=True)
        if explain and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
                print("\n".join("      " + row[0] for row in cursor.fetchall()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["build", "finish", "measure"])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args()
    print(fresh_database(), flush=True)
    if args.action == "build":
        build()
    elif args.action == "finish":  # the last steps again, on a database whose members and journal are built
        import django

        django.setup()
        from employers.models import Employer, User

        big = Employer.objects.get(account_no=BIG)
        finish(big, User.objects.get(login_name="bench", employer=big))
    else:
        measure(args.runs, args.explain)


if __name__ == "__main__":
    main()
