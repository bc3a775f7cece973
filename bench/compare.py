"""Before and after on the same machine at the same time (issue 18): the tree checked out and an earlier commit each
serve bench/scale.py's scratch database under gunicorn (4 sync workers, the same production settings, the same
secrets), and every page of the walk is measured on both in turns (A B, then B A for the next page …) with the same
signed-in session and 16 clients, so that the host's speed, which moves 1.5–2 × between hours on a shared virtual
machine, moves both alike. The floor (/healthz/, /healthz/db/) is measured on both at the start and at the end.

    .venv/bin/python bench/compare.py a5981de --seconds 4                       # every page
    .venv/bin/python bench/compare.py a5981de --seconds 5 --only /members/

The earlier tree is taken with `git archive` into a temporary folder and served against the database as it is now
(migrated for the tree checked out: an earlier tree ignores the tables and columns added since; only GET pages are
measured). A page the earlier tree does not have answers 404 there and is shown so.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from bench.scale import (  # noqa: E402
    FLOOR,
    Cast,
    _value_queries,
    bench_secrets,
    cpu_speed,
    database_state,
    django_setup,
    measure,
    probe,
    scratch_database,
    sign_in,
    walk_pages,
)
from bench.serving import GUNICORN, PYTHON, free_port, server_env, wait_up  # noqa: E402


def tree_of(ref: str, into: Path) -> Path:
    """The files of commit `ref`, as `git archive` gives them."""
    tree = into / "tree"
    tree.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def start(env: dict, cwd: Path, port: int, log: Path) -> subprocess.Popen:
    return subprocess.Popen([GUNICORN, "gjj_portal.wsgi", "--workers", "4", "--bind", f"127.0.0.1:{port}", "--timeout", "120"],
                            env=env, cwd=cwd, stdout=log.open("ab"), stderr=subprocess.STDOUT)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("ref", help="the earlier commit (B); A is the tree checked out")
    parser.add_argument("--database", default="gjj_scale")
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--only", default="", help="pages whose path or URL name contains this")
    args = parser.parse_args()
    name = scratch_database(args.database)
    if not database_state(name):
        raise SystemExit(f"{name} is not built: run bench/scale.py --build-only first")
    secrets_ = bench_secrets(name, create=False)
    work_a, work_b = Path(tempfile.mkdtemp(prefix="gjj-compare-a-")), Path(tempfile.mkdtemp(prefix="gjj-compare-b-"))
    tree_b = tree_of(args.ref, work_b)
    port_a, port_b = free_port(), free_port()
    env_a = server_env(work_a, name, port_a, master_key=secrets_["master_key"], extra={"GJJ_BENCH_QUERY_HEADER": "1"})
    env_b = server_env(work_b, name, port_b, master_key=secrets_["master_key"], extra={"GJJ_BENCH_QUERY_HEADER": "1"})
    env_b["GJJ_SECRET_KEY"] = env_a["GJJ_SECRET_KEY"]  # one session cookie signs in on both
    env_b["PYTHONPATH"] = os.pathsep.join([str(work_b), str(tree_b)])

    django_setup(env_a)
    from django.db import connections

    from employers.models import User
    from gjj_portal.printing.signing import _self_signed

    for env in (env_a, env_b):
        _self_signed(Path(env["GJJ_SIGNING_CERT"]), Path(env["GJJ_SIGNING_KEY"]), "鄂尔多斯市住房公积金中心")
    for command in (["migrate", "--verbosity", "0"], ["collectstatic", "--noinput", "--verbosity", "0"]):
        subprocess.run([PYTHON, "manage.py", *command], env=env_a, cwd=ROOT, check=True)
    subprocess.run([PYTHON, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], env=env_b, cwd=tree_b, check=True)
    agent = User.objects.select_related("employer").get(login_name="scale", is_primary=True, employer__account_no="600001")
    reviewer = User.objects.get(username="scale-reviewer")
    colleague = User.objects.get(login_name="scale2", employer=agent.employer)
    pages = [p for p in walk_pages(_value_queries(Cast(large=agent.employer, agent=agent, colleague=colleague, reviewer=reviewer)))
             if not p.skipped and (not args.only or args.only in p.path or args.only in p.name)]
    connections.close_all()

    servers = {"A": start(env_a, ROOT, port_a, work_a / "gunicorn.log"), "B": start(env_b, tree_b, port_b, work_b / "gunicorn.log")}
    ports = {"A": port_a, "B": port_b}
    speed = {"before": cpu_speed()}
    rows = []
    try:
        for port in ports.values():
            wait_up(port)
        sessions = {
            "agent": sign_in(port_a, center=False, cast_names={"account_no": agent.employer.account_no}, secrets_=secrets_),
            "center": sign_in(port_a, center=True, cast_names={"reviewer": reviewer.username}, secrets_=secrets_),
        }
        todo = [("floor", path, label) for path, label in FLOOR.items()]
        for page in pages:
            if probe(port_a, page, sessions[page.audience], False):
                continue  # POST only, a download, 403/404 to the user: as bench/scale.py leaves them out
            todo.append((page.audience, page.path, f"{page.audience}: {page.name}"))
        todo += [("floor", path, f"{label}, again") for path, label in FLOOR.items()]
        print(f"compare: A = this tree, B = {args.ref}; {len(todo)} pages × 2 × {args.seconds:g} s, {args.clients} clients; "
              f"CPU speed {speed['before']:.0f} ms", flush=True)
        for index, (who, path, label) in enumerate(todo):
            cookies = sessions["agent" if who == "floor" else who]
            found = {}
            for side in ("A", "B") if index % 2 == 0 else ("B", "A"):
                found[side] = measure(ports[side], label, path, cookies, clients=args.clients, seconds=args.seconds).row()
            rows.append((label, path, found["A"], found["B"]))
            a, b = found["A"], found["B"]
            print(f"  {path:<52} A p50 {a['p50']:5.0f} p95 {a['p95']:5.0f} {a['rps']:6.1f}/s q {a['queries']} | "
                  f"B p50 {b['p50']:5.0f} p95 {b['p95']:5.0f} {b['rps']:6.1f}/s q {b['queries']} {dict(b['statuses'])}", flush=True)
    finally:
        for server in servers.values():
            server.send_signal(signal.SIGTERM)
        for server in servers.values():
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
    speed["after"] = cpu_speed()
    out = [f"# bench/compare.py — A: the tree checked out, B: {args.ref} — {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC",
           "", f"{args.clients} clients × {args.seconds:g} s per page and tree, in turns; CPU speed (ms for a fixed Python loop) "
           f"{speed['before']:.0f} before, {speed['after']:.0f} after", "",
           "| page | path | B p50 | B p95 | B req/s | A p50 | A p95 | A req/s | queries B → A |",
           "|---|---|---:|---:|---:|---:|---:|---:|---|"]

    def queries(row):
        return "" if row["queries"] is None else f"{row['queries']:g}"

    for label, path, a, b in rows:
        b_cell = f"{b['p50']:.0f} | {b['p95']:.0f} | {b['rps']:.1f}" if b["statuses"].get("200") or b["statuses"].get("302") else \
            f"— | — | {', '.join(f'{k}×{v}' for k, v in b['statuses'].items())}"
        out.append(f"| {label} | `{path}` | {b_cell} | {a['p50']:.0f} | {a['p95']:.0f} | {a['rps']:.1f} | {queries(b)} → {queries(a)} |")
    text = "\n".join(out) + "\n"
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    target = ROOT / "bench" / "out" / f"compare-{time.strftime('%Y%m%d-%H%M', time.gmtime())}.md"
    target.write_text(text)
    print("\n" + text + f"\nwritten to {target}")


if __name__ == "__main__":
    main()
