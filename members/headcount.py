"""缴存人数 and 月缴存额 by employer, department and 账户状态, kept by the database (issue 18).

The home page's header and 缴存人账户信息's 合计 and 部门小计 read a few rows of `Headcount` instead of counting and
adding an employer's members on each view (50,000 of them at the large employer of a city center). The rows are
written by triggers on members_member, in the same transaction as every write of a member, whatever path writes it
(the services, bulk updates, COPY, the admin, a migration): on PostgreSQL one statement-level trigger per event that
adds up the statement's rows (its transition tables), so a 50,000-member import or 缴至年月 update costs one grouped
statement; on SQLite, row-level triggers. `headcount_problems()` (part of `remittance.journal.reconcile()`) compares
them with the members, and `headcount_rebuild()` (`manage.py headcount_rebuild`) counts them again.

Lock order: a write that changes a headcount holds its row until the transaction ends, so two transactions writing
members of the same employer, department and status take turns there (the rows are taken in key order).
"""

from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count, Sum

TABLE = "members_headcount"
MEMBER = "members_member"
ZERO = Decimal("0.00")

_PG_NEW = "SELECT employer_id, COALESCE(department_id, 0) AS department_key, status, 1 AS n, monthly_amount AS amount FROM new_rows"
_PG_OLD = "SELECT employer_id, COALESCE(department_id, 0), status, -1, -monthly_amount FROM old_rows"


def _pg_add(rows: str) -> str:
    """Add the statement's rows, grouped, to the headcount (taken in key order; a group that nets to nothing, as in
    a 缴至年月 update, is not written, so its row is not locked)."""
    return f"""INSERT INTO {TABLE} (employer_id, department_key, status, members, monthly_amount)
        SELECT employer_id, department_key, status, sum(n), sum(amount) FROM ({rows}) d
        GROUP BY 1, 2, 3 HAVING sum(n) <> 0 OR sum(amount) <> 0 ORDER BY 1, 2, 3
        ON CONFLICT (employer_id, department_key, status) DO UPDATE
        SET members = {TABLE}.members + EXCLUDED.members, monthly_amount = {TABLE}.monthly_amount + EXCLUDED.monthly_amount;"""


def _pg_function(name: str, body: str) -> str:
    return f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {body} RETURN NULL; END $$"


def _pg_create() -> list[str]:
    # A trigger with transition tables names one event, and each function reads only the tables its event has.
    take = f"""UPDATE {TABLE} h SET members = h.members - d.n, monthly_amount = h.monthly_amount - d.amount
        FROM (SELECT employer_id, COALESCE(department_id, 0) AS department_key, status, count(*) AS n,
                     sum(monthly_amount) AS amount FROM old_rows GROUP BY 1, 2, 3) d
        WHERE h.employer_id = d.employer_id AND h.department_key = d.department_key AND h.status = d.status;"""
    statements = []
    for event, body, tables in (
        ("insert", _pg_add(_PG_NEW), "NEW TABLE AS new_rows"),
        ("update", _pg_add(f"{_PG_NEW} UNION ALL {_PG_OLD}"), "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
        ("delete", take, "OLD TABLE AS old_rows"),
    ):
        statements += [
            _pg_function(f"{TABLE}_{event}", body),
            f"CREATE TRIGGER {TABLE}_{event} AFTER {event.upper()} ON {MEMBER} REFERENCING {tables} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_{event}()",
        ]
    return statements


_SQLITE_ADD = f"""INSERT INTO {TABLE} (employer_id, department_key, status, members, monthly_amount)
        VALUES (NEW.employer_id, COALESCE(NEW.department_id, 0), NEW.status, 1, NEW.monthly_amount)
        ON CONFLICT (employer_id, department_key, status) DO UPDATE
        SET members = members + 1, monthly_amount = monthly_amount + excluded.monthly_amount;"""
# A member's row was counted when it was written, so taking it away only updates (a flush that empties the headcount
# before the members leaves nothing behind).
_SQLITE_TAKE = f"""UPDATE {TABLE} SET members = members - 1, monthly_amount = monthly_amount - OLD.monthly_amount
        WHERE employer_id = OLD.employer_id AND department_key = COALESCE(OLD.department_id, 0) AND status = OLD.status;"""


def _sqlite_create() -> list[str]:
    return [
        f"CREATE TRIGGER {TABLE}_insert AFTER INSERT ON {MEMBER} BEGIN {_SQLITE_ADD} END",
        f"CREATE TRIGGER {TABLE}_delete AFTER DELETE ON {MEMBER} BEGIN {_SQLITE_TAKE} END",
        f"CREATE TRIGGER {TABLE}_update AFTER UPDATE OF employer_id, department_id, status, monthly_amount ON {MEMBER} "
        "WHEN OLD.employer_id IS NOT NEW.employer_id OR OLD.department_id IS NOT NEW.department_id "
        "OR OLD.status IS NOT NEW.status OR OLD.monthly_amount IS NOT NEW.monthly_amount "
        f"BEGIN {_SQLITE_TAKE} {_SQLITE_ADD} END",
    ]


def triggers_drop(schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    for event in ("insert", "update", "delete"):
        if vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{event} ON {MEMBER}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {TABLE}_{event}()")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_{event}")


def triggers_create(schema_editor) -> None:
    """(Re)create the triggers (migration members/0013). A later AlterField of Member that SQLite performs by copying
    the table leaves its triggers behind: such a migration calls this again, then headcount_rebuild();
    tests/members/test_headcount.py fails without them."""
    triggers_drop(schema_editor)
    vendor = schema_editor.connection.vendor
    for statement in _pg_create() if vendor == "postgresql" else _sqlite_create():
        schema_editor.execute(statement)


def triggers_present() -> set[str]:
    """The names of the headcount triggers the database has on members_member."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [MEMBER])
        else:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [MEMBER])
        return {name for (name,) in cursor.fetchall() if name.startswith(TABLE)}


def _counted():
    from .models import Member

    return (Member.objects.order_by().values("employer_id", "department_id", "status")
            .annotate(n=Count("*"), amount=Sum("monthly_amount", default=ZERO)))


def headcount_rebuild() -> int:
    """Count every employer's members again (the triggers keep it from there). Returns the rows written."""
    from .models import Headcount

    with transaction.atomic():
        if connection.vendor == "postgresql":  # no member is written while the rows are counted again
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {MEMBER} IN SHARE MODE")
        Headcount.objects.all().delete()
        rows = [Headcount(employer_id=r["employer_id"], department_key=r["department_id"] or 0, status=r["status"], members=r["n"],
                          monthly_amount=r["amount"]) for r in _counted()]
        Headcount.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def headcount_problems() -> list[str]:
    """Where the kept headcount differs from the members (reconcile): one sentence per differing key."""
    from .models import Headcount

    kept = {(h.employer_id, h.department_key, h.status): (h.members, round(h.monthly_amount + ZERO, 2)) for h in Headcount.objects.all()}
    problems = []
    for r in _counted():
        key = (r["employer_id"], r["department_id"] or 0, r["status"])
        have = kept.pop(key, (0, ZERO))
        want = (r["n"], round(r["amount"] + ZERO, 2))
        if have != want:
            problems.append(f"单位 {key[0]} 部门 {key[1]} {key[2]}：人数合计表 {have[0]} 人 {have[1]} 元，缴存人 {want[0]} 人 {want[1]} 元")
    problems += [f"单位 {key[0]} 部门 {key[1]} {key[2]}：人数合计表 {have[0]} 人 {have[1]} 元，缴存人 0 人"
                 for key, have in kept.items() if have != (0, ZERO)]
    return problems
