"""The balance table (issue 18): EmployerBalance and EmployerPosting (their docstrings say what they hold).

`balances_post` writes them in the posting's own transaction (journal.entry_post calls it after the lines);
`balances_check` compares them with the lines (journal.reconcile); `balances_rebuild` writes them again from the
lines, set-based (`manage.py balances_rebuild`, and migration 0011 filled them the same way).
"""

from decimal import Decimal

from django.db import connection, transaction
from django.db.models import F, Q, Sum

from .models import Account, EmployerBalance, EmployerPosting, Entry, Line

ZERO = Decimal("0.00")

# Per (entry, employer): what the entry did to the employer's members' accounts and 未分配金额, from the lines.
# Member and 未分配 accounts carry credit balances: a credit (negative line) raises them. Rounded to the fen in SQL:
# SQLite adds decimals as binary floats.
SUMS_SQL = """
    SELECT l.entry_id AS entry_id, a.employer_id AS employer_id,
           ROUND(SUM(CASE WHEN a.kind = 'member' AND l.amount < 0 THEN -l.amount ELSE 0 END), 2) AS increase,
           ROUND(SUM(CASE WHEN a.kind = 'member' AND l.amount > 0 THEN l.amount ELSE 0 END), 2) AS decrease,
           ROUND(SUM(CASE WHEN a.kind = 'unallocated' THEN -l.amount ELSE 0 END), 2) AS unallocated_change
    FROM remittance_line l JOIN remittance_account a ON a.id = l.account_id
    WHERE a.kind IN ('member', 'unallocated') AND a.employer_id IS NOT NULL {where}
    GROUP BY l.entry_id, a.employer_id
"""

# The rows as they should be: the sums with the running balances in (记账日期, 流水) order per employer.
EXPECTED_SQL = """
    SELECT s.entry_id, s.employer_id, e.posted_on, s.increase, s.decrease, s.unallocated_change,
           ROUND(SUM(s.increase - s.decrease) OVER w, 2) AS balance,
           ROUND(SUM(s.unallocated_change) OVER w, 2) AS unallocated,
           ROW_NUMBER() OVER (PARTITION BY s.employer_id ORDER BY e.posted_on DESC, s.entry_id DESC) AS from_last
    FROM ({sums}) s JOIN remittance_entry e ON e.id = s.entry_id
    WINDOW w AS (PARTITION BY s.employer_id ORDER BY e.posted_on, s.entry_id ROWS UNBOUNDED PRECEDING)
"""

POSTING_COLUMNS = "entry_id, employer_id, posted_on, increase, decrease, unallocated_change, balance, unallocated"


def _expected(employer_ids: list[int] | None) -> tuple[str, list]:
    where, params = "", []
    if employer_ids is not None:
        where = f"AND a.employer_id IN ({', '.join(['%s'] * len(employer_ids))})"
        params = list(employer_ids)
    return EXPECTED_SQL.format(sums=SUMS_SQL.format(where=where)), params


def balances_post(entry: Entry) -> None:
    """The entry's rows of the balance table, and each touched employer's balances moved, under that employer's
    EmployerBalance row lock (taken here in employer order, whoever the caller is and whatever it locked)."""
    member, unallocated = Q(account__kind=Account.Kind.MEMBER), Q(account__kind=Account.Kind.UNALLOCATED)
    sums = list(
        Line.objects.filter(entry=entry, account__employer__isnull=False).filter(member | unallocated)
        .values("account__employer_id")
        .annotate(
            credits=Sum("amount", filter=member & Q(amount__lt=0), default=ZERO),
            debits=Sum("amount", filter=member & Q(amount__gt=0), default=ZERO),
            unallocated=Sum("amount", filter=unallocated, default=ZERO),
        )
        .order_by("account__employer_id")
    )
    if not sums:
        return
    ids = [row["account__employer_id"] for row in sums]
    EmployerBalance.objects.bulk_create([EmployerBalance(employer_id=pk) for pk in ids], ignore_conflicts=True)
    heads = {head.pk: head for head in EmployerBalance.objects.select_for_update(no_key=True).filter(employer_id__in=ids).order_by("employer_id")}
    key = (entry.posted_on, entry.pk)
    rows = []
    for row in sums:
        head = heads[row["account__employer_id"]]
        increase, decrease, change = -row["credits"] + ZERO, row["debits"] + ZERO, -row["unallocated"] + ZERO
        if head.last_posted_on is None or (head.last_posted_on, head.last_entry_id) < key:
            balance, left = head.members + increase - decrease, head.unallocated + change
            head.last_posted_on, head.last_entry_id = key
        else:
            balance, left = _insert_before(head.pk, key, increase - decrease, change)
        head.members, head.unallocated = head.members + increase - decrease, head.unallocated + change
        head.save(update_fields=["members", "unallocated", "last_posted_on", "last_entry"])
        rows.append(EmployerPosting(entry=entry, employer_id=head.pk, posted_on=entry.posted_on, increase=increase, decrease=decrease,
                                    unallocated_change=change, balance=balance, unallocated=left))
    EmployerPosting.objects.bulk_create(rows)


def _insert_before(employer_id: int, key, members: Decimal, change: Decimal) -> tuple[Decimal, Decimal]:
    """A posting that goes before the employer's last one (dated earlier — 年度结息 on 6/30 —, or numbered before one
    that committed first): its balances follow the row before it, and every later row moves by its amounts."""
    day, entry_id = key
    mine = EmployerPosting.objects.filter(employer_id=employer_id)
    before = (mine.filter(Q(posted_on__lt=day) | Q(posted_on=day, entry_id__lt=entry_id)).order_by("-posted_on", "-entry_id")
              .values_list("balance", "unallocated").first()) or (ZERO, ZERO)
    mine.filter(Q(posted_on__gt=day) | Q(posted_on=day, entry_id__gt=entry_id)).update(
        balance=F("balance") + members, unallocated=F("unallocated") + change)
    return before[0] + members, before[1] + change


def balances_check(*, limit: int = 50) -> list[str]:
    """Where the balance table disagrees with the lines: a posting missing, one too many, amounts or running balances
    that differ; an employer whose EmployerBalance is not the sum of its lines or names another last posting."""
    expected, params = _expected(None)
    money = ("increase", "decrease", "unallocated_change", "balance", "unallocated")
    differs = " OR ".join([f"ROUND(p.{name}, 2) <> x.{name}" for name in money] + ["p.posted_on <> x.posted_on"])
    sql = f"""
        WITH x AS ({expected})
        SELECT x.entry_id, x.employer_id, 'differs', p.id FROM x
            LEFT JOIN remittance_employerposting p ON p.entry_id = x.entry_id AND p.employer_id = x.employer_id
            WHERE p.id IS NULL OR {differs}
        UNION ALL
        SELECT p.entry_id, p.employer_id, 'extra', p.id FROM remittance_employerposting p
            WHERE NOT EXISTS (SELECT 1 FROM x WHERE x.entry_id = p.entry_id AND x.employer_id = p.employer_id)
        UNION ALL
        SELECT x.entry_id, x.employer_id, 'head', NULL FROM x
            LEFT JOIN remittance_employerbalance b ON b.employer_id = x.employer_id
            WHERE x.from_last = 1 AND (b.employer_id IS NULL OR ROUND(b.members, 2) <> x.balance OR ROUND(b.unallocated, 2) <> x.unallocated
                                       OR b.last_entry_id IS NULL OR b.last_entry_id <> x.entry_id OR b.last_posted_on <> x.posted_on)
        UNION ALL
        SELECT NULL, b.employer_id, 'head', NULL FROM remittance_employerbalance b
            WHERE NOT EXISTS (SELECT 1 FROM x WHERE x.employer_id = b.employer_id)
              AND (b.members <> 0 OR b.unallocated <> 0 OR b.last_entry_id IS NOT NULL)
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        found = cursor.fetchall()
    return _describe(found, limit=limit)


def _describe(found: list[tuple], *, limit: int) -> list[str]:
    from employers.models import Employer

    units = dict(Employer.objects.filter(pk__in={row[1] for row in found[:limit]}).values_list("pk", "account_no"))
    serials = dict(Entry.objects.filter(pk__in={row[0] for row in found[:limit] if row[0]}).values_list("pk", "serial_no"))
    what = {"differs": "余额表与明细不符或缺失", "extra": "余额表有明细中没有的变动", "head": "单位余额与明细合计不符"}
    problems = []
    for entry_id, employer_id, kind, _row in found[:limit]:
        serial = f" 流水 {serials.get(entry_id, entry_id)}" if entry_id else ""
        problems.append(f"单位 {units.get(employer_id, employer_id)}{serial}: {what[kind]}")
    if len(found) > limit:
        problems.append(f"余额表另有 {len(found) - limit} 处不符")
    return problems


def balances_rebuild(*, employer_ids: list[int] | None = None) -> int:
    """Write the balance table again from the lines (all employers, or those given), in one transaction; returns the
    rows written. On PostgreSQL the table of heads is locked first, so a posting meanwhile waits and then follows."""
    expected, params = _expected(employer_ids)
    scope, scope_params = "", []
    if employer_ids is not None:
        scope = f"WHERE employer_id IN ({', '.join(['%s'] * len(employer_ids))})"
        scope_params = list(employer_ids)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("LOCK TABLE remittance_employerbalance IN EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM remittance_employerposting {scope}", scope_params)
        cursor.execute(f"DELETE FROM remittance_employerbalance {scope}", scope_params)
        cursor.execute(f"INSERT INTO remittance_employerposting ({POSTING_COLUMNS}) SELECT {POSTING_COLUMNS} FROM ({expected}) x", params)
        written = cursor.rowcount
        cursor.execute(f"""
            INSERT INTO remittance_employerbalance (employer_id, members, unallocated, last_posted_on, last_entry_id)
            SELECT employer_id, balance, unallocated, posted_on, entry_id FROM (
                SELECT p.*, ROW_NUMBER() OVER (PARTITION BY employer_id ORDER BY posted_on DESC, entry_id DESC) AS from_last
                FROM remittance_employerposting p {scope}
            ) t WHERE from_last = 1
        """, scope_params)
    return written
