"""Peak memory of the exports and prints of a 50,000-member employer (issue 18 item 4): a worker's peak RSS ≤ 250 MB.
Figures go to docs/performance.md.

    .venv/bin/python bench/exports_bench.py                                   # SQLite (/tmp/gjj_bench_exports.sqlite3)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gjj_bench_exports .venv/bin/python bench/exports_bench.py

Builds (not timed) one employer of --members members with a month allocated (so its 汇缴 has a 明细 of one line a
member). Then each case runs in a fresh process, through the URL an agent uses (Django's test client, signed in as
the employer's agent), reads the response to the end into nothing, and reports its wall time, its peak resident set
size (ru_maxrss, Django and the database connection included) and how much that peak grew over the process as it
stood before the request (after Django was set up and the agent signed in):
- export: 缴存人账户信息 【导出】 (.xlsx) of every member;
- print: 缴存人账户信息 【打印】 of every member (refused above the print's row cap, MAX_ROWS, before a row is read);
- print-cap: 【打印】 of a second employer of exactly the cap (20,000 members): the largest list a print holds;
- detail: the 汇缴 明细 PDF (one line a member) of the allocated month.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")
if not os.environ.get("DATABASE_URL"):
    os.environ.setdefault("GJJ_SQLITE_PATH", "/tmp/gjj_bench_exports.sqlite3")

ACCOUNT_NO = "900050"
CAP_ACCOUNT_NO = "900020"  # an employer of MAX_ROWS members: the largest 【打印】 there is
CASES = ("export", "print", "print-cap", "detail")


def build(members: int) -> None:
    from bench.remittance_bench import add_members, maintenance
    from remittance import services
    from tests import factories

    reviewer = factories.make_reviewer(login_name="exports-reviewer")
    employer = factories.make_employer(account_no=ACCOUNT_NO, name="基准测试导出单位")
    agent = factories.make_agent(employer, login_name="exports")
    add_members(employer, members, 1)
    maintenance()
    assessment = services.assessment_create(employer=employer, agent=agent, period=date(2025, 7, 1))
    services.payment_record(employer=employer, amount=assessment.amount, value_date=date(2025, 7, 5), bank_serial_no="EXPORTS-1",
                            reviewer=reviewer)
    services.allocation_complete(assessment=assessment, agent=agent, idempotency_key="exports-1")
    from gjj_portal.printing.services import MAX_ROWS

    capped = factories.make_employer(account_no=CAP_ACCOUNT_NO, name="基准测试打印单位")
    factories.make_agent(capped, login_name="exports-cap")
    add_members(capped, MAX_ROWS, 1)
    maintenance()


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(case: str) -> dict:
    """One case in this process."""
    import django

    django.setup()
    from django.test import Client
    from django.urls import reverse

    from employers.models import Employer, User
    from remittance.models import Entry
    from tests import factories

    employer = Employer.objects.get(account_no=ACCOUNT_NO)
    agent = User.objects.get(employer__account_no=CAP_ACCOUNT_NO if case == "print-cap" else ACCOUNT_NO, role=User.Role.AGENT)
    entry = Entry.objects.get(employer=employer, kind=Entry.Kind.REMITTANCE)
    client = Client()
    factories.login_as(client, agent)
    client.get(reverse("members:query"))  # warm: templates, URL resolver, the session
    before = rss_mb()
    started = time.perf_counter()
    if case == "export":
        response = client.get(reverse("members:query-export"))
    elif case in ("print", "print-cap"):
        response = client.post(reverse("members:query-print"), {"q": ""})
        if response.status_code == 303:
            response = client.get(response["Location"])
    else:
        response = client.get(reverse("remittance:entry-detail-print", args=[entry.pk]))
    size = 0
    if response.streaming:
        for part in response.streaming_content:
            size += len(part)
    else:
        size = len(response.content)
    response.close()
    return {"case": case, "status": response.status_code, "streaming": response.streaming, "bytes": size,
            "seconds": time.perf_counter() - started, "rss_mb": rss_mb(), "growth_mb": rss_mb() - before,
            "refused": response.status_code == 302}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=50_000)
    parser.add_argument("--cases", default=",".join(CASES))
    parser.add_argument("--reuse", action="store_true", help="measure the database built by an earlier run")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # one case, in a child process
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)  # the database, in a child process
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    if args.build:
        from bench.remittance_bench import fresh_database

        engine = fresh_database()
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("flush", interactive=False, verbosity=0)
        started = time.perf_counter()
        build(args.build)
        print(f"{engine}: built {args.build:,} members and their month in {time.perf_counter() - started:.0f} s", flush=True)
        return
    if not args.reuse:  # in a child too: a process's peak RSS (ru_maxrss) passes on to the children it forks
        subprocess.run([sys.executable, __file__, "--build", str(args.members)], check=True, env=os.environ.copy())
    for case in args.cases.split(","):
        child = subprocess.run([sys.executable, __file__, "--measure", case], capture_output=True, text=True, env=os.environ.copy())
        if child.returncode:
            sys.exit(child.stderr)
        r = json.loads(child.stdout.strip().splitlines()[-1])
        outcome = "refused (row cap)" if r["refused"] else f"{r['bytes'] / 1e6:.1f} MB{' streamed' if r['streaming'] else ''}"
        print(f"  {case:<10} {r['seconds']:7.2f} s  peak RSS {r['rss_mb']:6.1f} MB  (+{r['growth_mb']:5.1f} MB for the request)  "
              f"HTTP {r['status']}  {outcome}", flush=True)


if __name__ == "__main__":
    main()
