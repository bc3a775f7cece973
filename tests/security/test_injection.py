"""SEC-26: injection-safe data access. The ORM by default; raw SQL only in the reviewed modules below, where
values always travel as parameters and only identifiers (quoted table and column names) are formatted in."""

import ast
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import make_member

ROOT = Path(settings.BASE_DIR)
APPS = ("employers", "members", "approvals", "remittance", "gjj_portal")
# Modules that send SQL of their own, each reviewed: bulk inserts and look-ups (bulk), the append-only
# triggers (dbtriggers), the audit purge, 开户 as INSERT … SELECT (register), the allocation's lock
# timeout and INSERT … SELECT (remittance.services), the journal lines' COPY (remittance.journal).
RAW_SQL_MODULES = {
    "gjj_portal/bulk.py", "gjj_portal/dbtriggers.py", "gjj_portal/management/commands/purge_audit.py",
    "remittance/services.py",
    # 明细账 export: runs the SQL the ORM compiled (parameters apart) on a server-side cursor, to skip per-row converters
    "remittance/ledger.py",
    # the balance table: its check and rebuild as set-based SQL over the lines (employer ids as parameters)
    "remittance/balances.py",
    # the headcount's triggers and their check: constant statements (table names are module constants), a table lock
    "members/headcount.py",
    # constant statements only: the one-query health check (SELECT 1), the 催缴 list's SET LOCAL jit = off
    "gjj_portal/views.py", "remittance/center_selectors.py",
    # the benchmark's query counter wraps execute (GJJ_BENCH_QUERY_HEADER); it sends no SQL of its own
    "gjj_portal/middleware.py",
    # prepared reads: the SQL the ORM compiled once, run with the call's values as parameters (never in the text)
    "gjj_portal/prepared.py",
}
FORBIDDEN_CALLS = {"eval", "exec", "extra", "raw", "system", "popen"}


def _sources():
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _called(node: ast.Call) -> str:
    return node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")


def test_no_eval_exec_extra_raw_or_shell_anywhere():
    offenders = []
    for name, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                if _called(node) in FORBIDDEN_CALLS:
                    offenders.append(f"{name}:{node.lineno} {_called(node)}(")
                if any(k.arg == "shell" and getattr(k.value, "value", False) is True for k in node.keywords):
                    offenders.append(f"{name}:{node.lineno} shell=True")
    assert offenders == []


def _is_copy(node: ast.Call) -> bool:
    """cursor.copy("COPY …"): psycopg's COPY, not a dict's or an HMAC's copy()."""
    if _called(node) != "copy" or not node.args:
        return False
    first = node.args[0]
    text = first.value if isinstance(first, ast.Constant) else "".join(
        part.value for part in getattr(first, "values", []) if isinstance(part, ast.Constant))
    return isinstance(text, str) and text.lstrip().upper().startswith("COPY")


def test_raw_sql_only_in_the_reviewed_modules():
    users = set()
    for name, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (_called(node) in {"execute", "executemany", "RawSQL"} or _is_copy(node)):
                users.add(name)
    assert users == RAW_SQL_MODULES, (sorted(users - RAW_SQL_MODULES), "no longer raw:", sorted(RAW_SQL_MODULES - users))


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["' OR 1=1--", "%", "_", "\\", "职工'); DROP TABLE members_member;--"])
def test_search_terms_are_values_not_sql(agent_client, employer, query):
    make_member(employer, name="王五")
    response = agent_client.get(reverse("members:query"), {"query": query})
    assert response.status_code == 200 and "王五" not in response.content.decode()
    assert agent_client.get(reverse("members:query"), {"query": "王五"}).content.decode().count("王五") >= 1
