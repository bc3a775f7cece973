"""The 明细 pages and the 明细账 page of bench/scale.py's large employer, one client (issue 18): each view called
directly with the employer's 主经办人 as request.user (no login, no session written), timed with its rendering, and
EXPLAIN (ANALYZE, BUFFERS) of each query it ran. Everything runs in one transaction that is rolled back: with
BUILD_INDEXES=1 migration 0012's two indexes are built inside it first (to measure on a database not yet migrated,
leaving it as it was). ONLY=<name prefix> measures some pages.

    GJJ_DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/gjj_scale .venv/bin/python bench/city_pages_bench.py 5
"""
import html
import os
import re
import statistics
import sys
import time

sys.path.insert(0, os.getcwd())
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gjj_portal.settings")
import django

django.setup()
# ruff: noqa: E402  (Django is set up before the models are imported)
from django.db import connection, transaction
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django_htmx.middleware import HtmxDetails

from employers.models import User
from remittance import ledger_views, views
from remittance.models import Assessment, Entry

agent = User.objects.get(login_name="scale", employer__account_no="600001")
large = agent.employer
assessment = Assessment.objects.filter(employer=large, status=Assessment.Status.ALLOCATED).order_by("-period").first()
entry = Entry.objects.filter(employer=large, kind=Entry.Kind.REMITTANCE).order_by("-posted_on", "-pk").first()
factory = RequestFactory()


def run(name, view, url, runs, explain=False):
    times, qms = [], []
    for _ in range(runs):
        request = factory.get(url)
        request.user, request.htmx, request.session = agent, HtmxDetails(request), {}
        with CaptureQueriesContext(connection) as queries:
            t = time.perf_counter()
            response = view(request)
            body = response.content
            times.append((time.perf_counter() - t) * 1000)
        qms.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
    print(f"{name} {url}: status {response.status_code}, {len(body):,} bytes, {len(queries)} queries; "
          f"median {statistics.median(times):.0f} ms (min {min(times):.0f}, max {max(times):.0f}), in queries {statistics.median(qms):.1f} ms; "
          f"rows {body.count(b'<tr')}", flush=True)
    if explain:
        for q in queries.captured_queries:
            sql = q["sql"]
            if not sql.lstrip().upper().startswith("SELECT") or "django_session" in sql or "employers_user" in sql:
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql)
                print("  SQL:", sql[:400])
                print("\n".join("    " + row[0] for row in cursor.fetchall()))
    return body


with transaction.atomic():
    with connection.cursor() as cursor:
        for sql in () if not os.environ.get("BUILD_INDEXES") else ('CREATE INDEX "remittance_line_entry_member" ON "remittance_line" ("entry_id", "member_id")',
                    'CREATE INDEX "remittance_assline_ass_acct" ON "remittance_assessmentline" ("assessment_id", "account_no")'):
            t = time.perf_counter()
            cursor.execute(sql)
            print(f"{sql}: {time.perf_counter() - t:.1f} s", flush=True)
        cursor.execute("ANALYZE remittance_line; ANALYZE remittance_assessmentline")

    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    only = os.environ.get("ONLY", "")
    for name, view, url in [
        ("assessment-detail", lambda r: views.assessment_detail(r, assessment.pk), f"/remittance/assessments/{assessment.pk}/"),
        ("entry-detail", lambda r: views.entry_detail(r, entry.pk), f"/remittance/entries/{entry.pk}/"),
        ("ledger", ledger_views.ledger_page, "/remittance/query/ledger/"),
        ("ledger (2020 on)", ledger_views.ledger_page, "/remittance/query/ledger/?start=2020-01-01&end=2026-12-31"),
        ("ledger member", ledger_views.ledger_page, "/remittance/query/ledger/?start=2020-01-01&end=2026-12-31&account_no=60000100001"),
    ]:
        if only and not name.startswith(only):
            continue
        body = run(name, view, url, runs, explain=True).decode()
        # the page after the first, from its cursor
        link = re.search(r'<a href="(\?[^"]*)"[^>]*>下一页</a>', body)
        if link:

            later = url.split("?")[0] + html.unescape(link.group(1))
            run(name + " page 2", view, later, runs, explain=True)
    transaction.set_rollback(True)
print("rolled back")
