"""What each page of bench/scale.py costs, in one process and one client (issue 18): the pages the scale run walks
(same URL conf walk, same objects), each requested through the whole middleware stack with Django's test client,
signed in as the large employer's 主经办人 or the reviewer. Per page: the median and p90 of the request's wall time,
of its CPU time in this process (Python: middleware, view, ORM, templates) and of its time in queries, and the
number of queries, and the Python function calls of one request (cProfile's count: it does not move with the host's
speed, so it compares two versions of a page on a busy machine). With 16 clients on 4 workers and 2 cores, a page meets p95 ≤ 150 ms only when its whole cost
(Python plus the database's share) is near the floor's, so this is the figure to work on; bench/scale.py gives
the figure that counts.

    .venv/bin/python bench/page_cost.py                               # every page, 20 requests each
    .venv/bin/python bench/page_cost.py --only /members/ --runs 50
    .venv/bin/python bench/page_cost.py --only /members/query/ --profile 30  # cProfile: the 30 costliest functions

It reads the scratch database built by bench/scale.py (default gjj_scale) and its secrets; it writes only sessions
and the audit of the two sign-ins.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from bench.scale import (  # noqa: E402
    Cast,
    _value_queries,
    bench_secrets,
    database_state,
    django_setup,
    scratch_database,
    walk_pages,
)
from bench.serving import free_port, server_env  # noqa: E402


def signed_in(user):
    """A test client holding `user`'s only session, as the login view leaves it (employers.views._complete_login)."""
    from django.test import Client

    from tests.factories import login_as

    client = Client(SERVER_NAME="127.0.0.1", raise_request_exception=False)
    login_as(client, user)
    return client


_RENDER = {"depth": 0, "seconds": 0.0}


def _time_templates() -> None:
    """Count the time spent rendering templates (the outermost render of each response; includes the queries a
    template's lazy querysets run, which the db column also counts)."""
    from django.template.backends.django import Template

    render = Template.render

    def timed(self, context=None, request=None):
        _RENDER["depth"] += 1
        started = time.perf_counter()
        try:
            return render(self, context, request)
        finally:
            _RENDER["depth"] -= 1
            if not _RENDER["depth"]:
                _RENDER["seconds"] += time.perf_counter() - started

    Template.render = timed


def cost(client, path: str, runs: int) -> dict:
    from django.db import connection

    spent = {"queries": 0, "db": 0.0}

    def timer(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            spent["queries"] += 1
            spent["db"] += time.perf_counter() - started

    walls, cpus, dbs, queries, renders, status, size = [], [], [], [], [], None, 0
    for n in range(runs + 2):  # two to warm the caches (templates, the ORM's, the database's)
        spent.update(queries=0, db=0.0)
        _RENDER["seconds"] = 0.0
        wall, cpu = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(timer):
            response = client.get(path)
            body = b"".join(response.streaming_content) if response.streaming else response.content
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        status, size = response.status_code, len(body)
        if n >= 2:
            walls.append(wall * 1000)
            cpus.append(cpu * 1000)
            dbs.append(spent["db"] * 1000)
            queries.append(spent["queries"])
            renders.append(_RENDER["seconds"] * 1000)
    profiler = cProfile.Profile()  # the Python calls of one more request: unlike the times, the same on a busy host
    profiler.enable()
    client.get(path)
    profiler.disable()
    calls = pstats.Stats(profiler).total_calls
    return {"calls": calls, "render": statistics.median(renders), "status": status, "bytes": size, "wall": statistics.median(walls), "wall p90": sorted(walls)[int(len(walls) * 0.9) - 1],
            "cpu": statistics.median(cpus), "db": statistics.median(dbs), "queries": statistics.median(queries)}


def print_queries(client, path: str, runs: int) -> None:
    """Each query of the request with its median time over `runs` requests, to the hundredth of a millisecond
    (Django's own record rounds to the millisecond)."""
    from django.db import connection

    times: dict[int, list[float]] = {}
    sqls: dict[int, str] = {}

    for _ in range(runs):
        seen = [0]

        def timer(execute, sql, params, many, context, seen=seen):
            started = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                times.setdefault(seen[0], []).append((time.perf_counter() - started) * 1000)
                sqls[seen[0]] = sql
                seen[0] += 1

        with connection.execute_wrapper(timer):
            client.get(path)
    width = int(os.environ.get("SQL_WIDTH", "300"))
    for n in sorted(sqls):
        print(f"    {statistics.median(times[n]):7.2f} ms  {' '.join(sqls[n].split())[:width]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database", default="gjj_scale")
    parser.add_argument("--only", default="", help="pages whose path or URL name contains this")
    parser.add_argument("--path", action="append", default=[], help="only this path (may be given again)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--queries", action="store_true", help="print each query of one request with its time")
    parser.add_argument("--profile", type=int, default=0, help="print cProfile's N costliest functions of each page")
    args = parser.parse_args()
    name = scratch_database(args.database)
    if not database_state(name):
        raise SystemExit(f"{name} is not built: run bench/scale.py --build-only first")
    secrets_ = bench_secrets(name, create=False)
    workdir = Path(tempfile.mkdtemp(prefix="gjj-cost-"))
    env = server_env(workdir, name, free_port(), master_key=secrets_["master_key"])
    django_setup(env)
    _time_templates()
    import subprocess

    from bench.serving import PYTHON
    from employers.models import User

    # as bench/scale.py serves it: the migrations added since the build, the collected static files
    for command in (["migrate", "--verbosity", "0"], ["collectstatic", "--noinput", "--verbosity", "0"]):
        subprocess.run([PYTHON, "manage.py", *command], env=env, cwd=ROOT, check=True)

    agent = User.objects.select_related("employer").get(login_name="scale", is_primary=True, employer__account_no="600001")
    reviewer = User.objects.get(username="scale-reviewer")
    colleague = User.objects.get(login_name="scale2", employer=agent.employer)
    cast = Cast(large=agent.employer, agent=agent, colleague=colleague, reviewer=reviewer)
    clients = {"agent": signed_in(agent), "center": signed_in(reviewer)}
    pages = [p for p in walk_pages(_value_queries(cast)) if not p.skipped and (not args.only or args.only in p.path or args.only in p.name)
             and (not args.path or p.path in args.path)]
    floor = cost(clients["agent"], "/healthz/db/", args.runs)
    print(f"{'page':<58} {'status':>6} {'KB':>6} {'wall':>7} {'p90':>7} {'cpu':>7} {'db':>7} {'render':>7} {'q':>4} {'calls':>7}   (ms, medians of {args.runs}; calls: one request)")
    print(f"{'floor: /healthz/db/':<58} {floor['status']:>6} {floor['bytes'] / 1024:6.1f} {floor['wall']:7.1f} {floor['wall p90']:7.1f} "
          f"{floor['cpu']:7.1f} {floor['db']:7.1f} {floor['render']:7.1f} {floor['queries']:4.0f} {floor['calls']:7d}", flush=True)
    for page in pages:
        if page.path.endswith((".pdf", ".xlsx", ".csv", "/export/", "/template/")):
            continue  # downloads: bench/scale.py --downloads times them
        client = clients[page.audience]
        first = client.get(page.path)
        kind = first.get("Content-Type", "")
        if first.status_code in (403, 404, 405) or not kind.startswith("text/html"):
            continue
        row = cost(client, page.path, args.runs)
        print(f"{page.path[:58]:<58} {row['status']:>6} {row['bytes'] / 1024:6.1f} {row['wall']:7.1f} {row['wall p90']:7.1f} "
              f"{row['cpu']:7.1f} {row['db']:7.1f} {row['render']:7.1f} {row['queries']:4.0f} {row['calls']:7d}", flush=True)
        if args.queries:
            print_queries(client, page.path, args.runs)
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.runs):
                client.get(page.path)
            profiler.disable()
            if os.environ.get("PROFILE_DIR"):  # one pstats file a page, for pstats or snakeviz
                profiler.dump_stats(Path(os.environ["PROFILE_DIR"]) / (page.path.strip("/").replace("/", "_") or "home"))
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("SORT", "cumulative")).print_stats(args.profile)
            print(out.getvalue())


if __name__ == "__main__":
    main()
