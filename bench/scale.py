"""City scale (issue 18): a center of 1,000,000 members at 2,000 employers with a year of books, served by gunicorn
with the production settings, every agent page and every center page measured under 16 concurrent clients.
Figures go to docs/performance.md.

    .venv/bin/python bench/scale.py                                   # build once (≤ 15 min), then measure
    .venv/bin/python bench/scale.py --seconds 5 --only remittance     # some pages, shorter
    .venv/bin/python bench/scale.py --members 60000 --employers 100 --large 10000 --database gjj_small_scale

The data lives in a scratch PostgreSQL database (default `gjj_scale`; a name that does not end in `_scale` is
refused). It is built once: a table `bench_scale_build` records the build's parameters, and a later run with the
same parameters measures without building; other parameters are refused unless `--rebuild` (drop and build again).
The master key the data is encrypted with, the bench users' password and TOTP secret are kept beside it, in
var/bench-scale/<database>.json (var/ is not in git).

The build writes what the project's own code would have written, set-based where it is large:
- the center, its policies, the employers (one of --large members, a long tail of small ones), the bench users,
  every 未分配 account (journal.unallocated_account);
- the members by COPY (gjj_portal.bulk.insert_rows), each ID number and phone encrypted for its row with the project's
  FieldCipher and its blind index made by crypto.blind_indexes, with their 开户 history;
- per month, for every employer at once (INSERT … SELECT): the 缴款 entry (bank → 未分配) and its Payment, the 汇缴
  entry (未分配 → each member) and the allocated Assessment with its snapshot lines, as remittance.services'
  payment and allocation paths write them; the serial counters moved past the numbers used;
- then the balance table rebuilt from the lines (remittance.balances.balances_rebuild), VACUUM ANALYZE, and through
  the services: members sealed, sealed members moved by 缴存人调动 (approved), the current month's 汇缴核定 of the
  large employer, open 清册 and applications waiting for the center; then journal.reconcile().

Measuring: the URL conf is walked (django.urls.get_resolver); every GET page of an agent (the large employer's
主经办人) and of the center (a reviewer) is measured with its path filled from the large employer's objects, each
for --seconds with --clients threads (keep-alive http.client connections sharing the one signed-in session: one
session per user is the portal's rule), beside the floor: /healthz/ (no query) and /healthz/db/ (one query).
A page the walk cannot fill, a POST-only one (405), a download (PDF, Excel, CSV: see --downloads) or one that
answers 404/403 to the user is listed with the reason. The server counts each request's queries
(GJJ_BENCH_QUERY_HEADER: X-Query-Count); the peak RSS of the workers is their VmHWM at the end.
"""

import argparse
import base64
import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from bench.serving import (  # noqa: E402
    GUNICORN,
    PG_ADMIN,
    PYTHON,
    center_create,
    children,
    free_port,
    peak_rss_kib,
    percentile,
    server_env,
    server_errors,
    wait_up,
)

SCRATCH_SUFFIX = "_scale"
MARKER = "bench_scale_build"
SECRETS_DIR = ROOT / "var" / "bench-scale"
OUT_DIR = ROOT / "bench" / "out"
CN_DIGITS = str.maketrans("0123456789", "〇一二三四五六七八九")
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉梅建国海燕志红"
MONTHS = 12
FLOOR = {"/healthz/": "bare view (no query)", "/healthz/db/": "one-query view (SELECT 1)"}
DOWNLOAD_TYPES = ("application/pdf", "application/vnd", "text/csv", "application/zip", "application/octet-stream")


# ---------------------------------------------------------------- the scratch database


def scratch_database(name: str) -> str:
    """The database the bench may drop, fill and serve: only one whose name says it is this bench's scratch one."""
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name or "") or not name.endswith(SCRATCH_SUFFIX) or name == SCRATCH_SUFFIX.lstrip("_"):
        raise SystemExit(f"refused: bench/scale.py builds and serves its own scratch database; {name!r} does not end in {SCRATCH_SUFFIX}")
    return name


def build_params(args) -> dict:
    return {"members": args.members, "employers": args.employers, "large": args.large, "months": MONTHS}


def database_state(name: str) -> dict | None:
    """None when the database does not exist; {} when it exists but holds no finished build; else the build's record."""
    import psycopg

    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            return None
    with psycopg.connect(PG_ADMIN.replace("/postgres?", f"/{name}?"), autocommit=True) as conn:
        if not conn.execute("SELECT to_regclass(%s)", [MARKER]).fetchone()[0]:
            return {}
        row = conn.execute(f"SELECT params, seconds, built_at, summary FROM {MARKER} ORDER BY built_at DESC LIMIT 1").fetchone()
    return {"params": row[0], "seconds": row[1], "built_at": row[2], "summary": row[3]} if row else {}


def recreate_database(name: str) -> None:
    import psycopg

    scratch_database(name)
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def bench_secrets(name: str, *, create: bool) -> dict:
    """The master key the data is encrypted with, and the bench users' password and TOTP secret."""
    path = SECRETS_DIR / f"{name}.json"
    if not create:
        if not path.exists():
            raise SystemExit(f"{path} is missing: the database was built elsewhere; run again with --rebuild")
        return json.loads(path.read_text())
    import pyotp

    SECRETS_DIR.mkdir(parents=True, exist_ok=True)
    values = {"master_key": base64.b64encode(secrets.token_bytes(32)).decode(), "password": secrets.token_urlsafe(18) + "Aa1!",
              "totp": pyotp.random_base32()}
    path.write_text(json.dumps(values))
    path.chmod(0o600)
    return values


# ---------------------------------------------------------------- the data


def employer_sizes(members: int, employers: int, large: int) -> list[int]:
    """Members per employer: the large one first, then a long tail (size ∝ 1/(rank+10)^1.1: at 1,000,000 members and
    2,000 employers from 22,800 down to 66, half of them under 150), each at least one."""
    if employers < 2 or large >= members or members - large < employers - 1:
        raise SystemExit("need at least two employers, and members enough for one each beside the large one")
    rest, tail = members - large, employers - 1
    weights = [1 / (rank + 10) ** 1.1 for rank in range(tail)]
    total = sum(weights)
    sizes = [max(1, int(rest * w / total)) for w in weights]
    sizes[0] += rest - sum(sizes)
    while sizes[0] < 1:  # more ones than the rounding left room for: take them back from the biggest
        biggest = max(range(1, tail), key=sizes.__getitem__)
        sizes[biggest] -= 1
        sizes[0] += 1
    return [large, *sizes]


def id_number(n: int) -> str:
    from stdnum.cn import ric

    body = f"150602{date(1960, 1, 1) + timedelta(days=n // 500):%Y%m%d}{n % 500:03d}"
    return body + ric.calc_check_digit(body + "0")


def person_name(n: int) -> str:
    return SURNAMES[n % len(SURNAMES)] + GIVEN[(n // len(SURNAMES)) % len(GIVEN)] + GIVEN[(n // 7) % len(GIVEN)]


def month_add(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class Timer:
    def __init__(self):
        self.started = time.monotonic()
        self.steps: list[tuple[str, float]] = []
        self._last = self.started

    def step(self, label: str) -> None:
        now = time.monotonic()
        self.steps.append((label, now - self._last))
        print(f"  {label:<58} {now - self._last:7.1f} s   (total {now - self.started:6.0f} s, load {os.getloadavg()[0]:.2f})",
              flush=True)
        self._last = now


@dataclass
class Cast:
    """Who the build made: the large employer, its 主经办人 and a colleague, the reviewer, the other agents."""

    large: object
    agent: object
    colleague: object
    reviewer: object
    others: list = field(default_factory=list)  # (employer, agent) of a few small employers with pending applications


def _user(*, username: str, name: str, role: str, password: str, totp: str, employer=None, login_name: str = "", primary: bool = False):
    from django.utils import timezone

    from employers.models import User

    account = User(username=username, login_name=login_name or username, display_name=name, role=role, employer=employer,
                   password_expires=False, must_change_password=False, password_changed_at=timezone.now(),
                   totp_confirmed_at=timezone.now(), is_primary=primary)
    account.set_password(password)
    account.totp_secret = totp
    account.save()
    return account


def build_center(*, sizes: list[int], secrets_: dict, first: date) -> Cast:
    from employers.models import Employer, User
    from gjj_portal.management.commands.demo import uscc_with_check
    from remittance.journal import bank_account, unallocated_account

    center_create(first_year=first.year)
    employers = []
    for i, _size in enumerate(sizes):
        account_no = f"{600001 + i}"
        employers.append(Employer(
            account_no=account_no, name=("鄂尔多斯市能源集团有限公司" if i == 0 else f"鄂尔多斯市{str(i).translate(CN_DIGITS)}号商贸有限公司"),
            uscc=uscc_with_check(f"91150602MA0T{i:05d}"), address="鄂尔多斯市东胜区天骄北路1号", legal_rep="刘建国",
            contact_name="王海燕", contact_phone="0477-8888001", bank_name="中国工商银行鄂尔多斯分行",
            bank_account=f"6222{account_no}0000001", opened_on=date(2015, 3, 1), employer_rate=Decimal("0.1200"),
            member_rate=Decimal("0.1200"),
        ))
    employers = Employer.objects.bulk_create(employers, batch_size=1000)
    bank_account()
    for employer in employers:
        unallocated_account(employer)
    pw, totp = secrets_["password"], secrets_["totp"]
    large = employers[0]
    cast = Cast(
        large=large,
        agent=_user(username=User.agent_username(large.account_no, "scale"), name="王海燕", role=User.Role.AGENT, employer=large,
                    login_name="scale", password=pw, totp=totp, primary=True),
        colleague=_user(username=User.agent_username(large.account_no, "scale2"), name="李娜", role=User.Role.AGENT, employer=large,
                        login_name="scale2", password=pw, totp=totp),
        reviewer=_user(username="scale-reviewer", name="审核员一", role=User.Role.REVIEWER, password=pw, totp=totp),
    )
    for employer in employers[1:4]:
        cast.others.append((employer, _user(username=User.agent_username(employer.account_no, "scale"), name="张伟", role=User.Role.AGENT,
                                            employer=employer, login_name="scale", password=pw, totp=totp, primary=True)))
    return cast


def member_rows(*, employers: list, sizes: list[int], first: date, last: date, policy):
    """One row per member, in Member's column order, for COPY: what member_open stores, the encryption included.
    No query in here: the connection is busy with the COPY the rows go to."""
    import uuid as uuidlib

    from gjj_portal.bulk import aad_for
    from gjj_portal.crypto import FieldCipher, blind_indexes, dashed, mask_id
    from members.models import Member
    from members.services.accounts import member_amounts

    cipher = FieldCipher()
    amounts: dict[Decimal, dict] = {}
    defaults = {f.name: f.get_default() for f in Member._meta.concrete_fields if not f.primary_key}
    n = 0
    for employer, size in zip(employers, sizes, strict=True):
        numbers = [id_number(n + k) for k in range(size)]
        indexes = blind_indexes(numbers)
        for k in range(size):
            number = numbers[k]
            row_uuid = dashed(cipher.uuid4_hex())
            base = Decimal(2500 + ((n + k) * 37) % 20000) + Decimal("0.00")
            if base not in amounts:
                amounts[base] = member_amounts(base=base, employer_rate=employer.employer_rate, member_rate=employer.member_rate, policy=policy)
            phone = f"139{(n + k) % 100_000_000:08d}"
            row = dict(defaults)
            row.update(
                uuid=uuidlib.UUID(row_uuid), employer=employer.pk, account_no=f"{employer.account_no}{k + 1:05d}", name=person_name(n + k),
                id_type=Member.IdType.RESIDENT.value, id_number_enc=cipher.encrypt(number, aad=aad_for(Member, "id_number", row_uuid)),
                id_index=indexes[number], id_masked=mask_id(number),
                gender=Member.Gender.MALE.value if int(number[16]) % 2 else Member.Gender.FEMALE.value,
                birth_date=date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
                phone_enc=cipher.encrypt(phone, aad=aad_for(Member, "phone", row_uuid)), base=base, employer_rate=employer.employer_rate,
                member_rate=employer.member_rate, **amounts[base], status=Member.Status.NORMAL.value, seal_reason="",
                start_period=first, paid_up_to=last, opened_on=first - timedelta(days=10),
            )
            yield row
        n += size


def _sql(statement: str, params=()) -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        return cursor.rowcount


def build_members(*, employers: list, sizes: list[int], first: date, last: date, timer: Timer) -> None:
    from django.db import transaction

    from employers.models import CenterPolicy
    from gjj_portal.bulk import gc_paused, insert_rows, insert_select
    from members.models import Member, MemberChange
    from remittance.models import Account

    names = [f.name for f in Member._meta.concrete_fields if not f.primary_key]
    rows = member_rows(employers=employers, sizes=sizes, first=first, last=last, policy=CenterPolicy.for_date(first))
    with transaction.atomic(), gc_paused():
        count = insert_rows(Member, rows, fields=names)
    timer.step(f"members: {count:,} (COPY, encrypted, blind-indexed)")
    with transaction.atomic():
        insert_select(MemberChange, "FROM members_member m", computed={
            "member": "m.id", "employer": "m.employer_id", "effective_period": "m.start_period",
            "at": "(m.opened_on + time '09:30') AT TIME ZONE 'Asia/Shanghai'"},
            values={"kind": MemberChange.Kind.OPEN, "field": "账户状态", "old": "", "new": Member.Status.NORMAL.label,
                    "reason": "缴存人登记", "batch": None, "actor": None})
        insert_select(Account, "FROM members_member m", computed={
            "member": "m.id", "employer": "m.employer_id", "name": "left(m.account_no || ' ' || m.name, 120)"},
            values={"kind": Account.Kind.MEMBER})
    timer.step("开户 history and personal accounts (INSERT … SELECT)")


# Filled by the hundred million rows' worth: their secondary indexes and keys are made once after the fill.
DEFERRED_TABLES = ["remittance_line", "remittance_assessmentline", "members_memberchange"]


@contextlib.contextmanager
def keys_deferred(tables: list[str]):
    """Drop the secondary indexes, unique and foreign keys of `tables` while they are filled, and make them again from
    their own catalog definitions afterwards (the schema ends as migrate left it): one sorted pass per index and one
    join per key instead of a b-tree insert and three key look-ups for each of 12,000,000 rows."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("""SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
                          WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('f', 'u') ORDER BY c.contype DESC, c.conname""",
                       [tables])
        constraints = cursor.fetchall()
        cursor.execute("""SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s) AND NOT EXISTS (
                          SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.contype IN ('p', 'u'))""", [tables])
        indexes = cursor.fetchall()
        for table, name, _definition in reversed(constraints):
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    yield
    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '1GB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition in constraints:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        cursor.execute("RESET maintenance_work_mem")


def build_months(*, cast: Cast, first: date, timer: Timer) -> None:
    """Twelve months of 缴款, 汇缴分配 and 汇缴核定 for every employer, as the services write them (see the docstring)."""
    from django.db import transaction

    from gjj_portal.bulk import insert_select
    from remittance.journal import bank_account
    from remittance.models import Assessment, AssessmentLine, Entry, Payment, SerialCounter

    bank = bank_account().pk
    _sql("DROP TABLE IF EXISTS scale_due")
    # What each employer owes a month: the members do not change during the year built here.
    _sql("""CREATE UNLOGGED TABLE scale_due AS
            SELECT m.employer_id, e.account_no, u.id AS unallocated_id, ROW_NUMBER() OVER (ORDER BY m.employer_id) AS n,
                   COUNT(*) AS headcount, SUM(m.employer_amount) AS employer_total, SUM(m.member_amount) AS member_total,
                   SUM(m.monthly_amount) AS amount
            FROM members_member m JOIN employers_employer e ON e.id = m.employer_id
            JOIN remittance_account u ON u.employer_id = m.employer_id AND u.kind = 'unallocated'
            GROUP BY m.employer_id, e.account_no, u.id""")
    employers = _sql("SELECT 1 FROM scale_due")
    large, agent, reviewer = cast.large.pk, cast.agent.pk, cast.reviewer.pk
    for month in range(MONTHS):
        period = month_add(first, month)
        assessed_on, paid_on, allocated_on = period.replace(day=5), period.replace(day=8), period.replace(day=10)
        stamp = "(%s::date + time '10:00') AT TIME ZONE 'Asia/Shanghai'"
        with transaction.atomic():
            # 缴款: bank → the employer's 未分配金额 (remittance.services._payment_post)
            insert_select(Entry, "FROM scale_due d", computed={
                "serial_no": ("%s || lpad(d.n::text, 8, '0')", [f"{paid_on:%Y%m%d}"]),
                "summary": ("'缴款 银行流水号' || %s || d.account_no", [f"SC{period:%Y%m}"]),
                "employer": "d.employer_id", "amount": "d.amount", "posted_at": (stamp, [paid_on])},
                values={"posted_on": paid_on, "kind": Entry.Kind.PAYMENT, "interest": Decimal("0.00"), "headcount": 0, "period": None,
                        "actor": reviewer, "idempotency_key": "", "reverses": None})
            _sql("""INSERT INTO remittance_line (entry_id, account_id, member_id, amount, interest, period)
                    SELECT e.id, %s, NULL, e.amount, 0, NULL FROM remittance_entry e WHERE e.kind = 'payment' AND e.posted_on = %s""",
                 [bank, paid_on])
            _sql("""INSERT INTO remittance_line (entry_id, account_id, member_id, amount, interest, period)
                    SELECT e.id, d.unallocated_id, NULL, -e.amount, 0, NULL FROM remittance_entry e JOIN scale_due d USING (employer_id)
                    WHERE e.kind = 'payment' AND e.posted_on = %s""", [paid_on])
            insert_select(Payment, "FROM remittance_entry e JOIN scale_due d USING (employer_id) WHERE e.kind = 'payment' AND e.posted_on = %s",
                          [paid_on], computed={"employer": "e.employer_id", "amount": "e.amount",
                                               "bank_serial_no": ("%s || d.account_no", [f"SC{period:%Y%m}"]), "entry": "e.id",
                                               "created_at": "e.posted_at"},
                          values={"value_date": paid_on, "source": Payment.Source.MANUAL, "recorded_by": reviewer})
            # 汇缴分配: 未分配金额 → each member's account (remittance.services._allocation_post), one entry per employer
            insert_select(Entry, "FROM scale_due d", computed={
                "serial_no": ("%s || lpad(d.n::text, 8, '0')", [f"{allocated_on:%Y%m%d}"]),
                "employer": "d.employer_id", "amount": "d.amount", "headcount": "d.headcount", "posted_at": (stamp, [allocated_on]),
                "actor": ("CASE WHEN d.employer_id = %s THEN %s END", [large, agent])},
                values={"posted_on": allocated_on, "kind": Entry.Kind.REMITTANCE, "summary": f"{period:%Y年%m月}汇缴",
                        "interest": Decimal("0.00"), "period": period, "idempotency_key": "", "reverses": None})
            _sql("""INSERT INTO remittance_line (entry_id, account_id, member_id, amount, interest, period)
                    SELECT e.id, d.unallocated_id, NULL, e.amount, 0, NULL FROM remittance_entry e JOIN scale_due d USING (employer_id)
                    WHERE e.kind = 'remittance' AND e.period = %s""", [period])
            _sql("""INSERT INTO remittance_line (entry_id, account_id, member_id, amount, interest, period)
                    SELECT e.id, a.id, m.id, -m.monthly_amount, 0, NULL
                    FROM members_member m JOIN remittance_account a ON a.member_id = m.id
                    JOIN remittance_entry e ON e.employer_id = m.employer_id AND e.kind = 'remittance' AND e.period = %s""",
                 [period])
            # 汇缴核定: the month's totals and its snapshot, allocated by the entry above
            first_month = month == 0
            insert_select(Assessment, "FROM scale_due d JOIN remittance_entry e ON e.employer_id = d.employer_id AND e.kind = 'remittance' "
                          "AND e.period = %s", [period], computed={
                              "employer": "d.employer_id", "serial_no": ("%s || lpad(d.n::text, 6, '0')", [f"HD{assessed_on:%Y%m%d}"]),
                              "headcount": "d.headcount", "amount": "d.amount", "employer_total": "d.employer_total",
                              "member_total": "d.member_total",
                              "prev_headcount": "0" if first_month else "d.headcount", "prev_amount": "0" if first_month else "d.amount",
                              "added_headcount": "d.headcount" if first_month else "0", "added_amount": "d.amount" if first_month else "0",
                              "assessed_by": ("CASE WHEN d.employer_id = %s THEN %s END", [large, agent]), "entry": "e.id",
                              "created_at": (stamp, [assessed_on])},
                          values={"period": period, "status": Assessment.Status.ALLOCATED, "removed_headcount": 0,
                                  "removed_amount": Decimal("0.00"), "assessed_on": assessed_on})
            insert_select(AssessmentLine, "FROM members_member m JOIN remittance_assessment a ON a.employer_id = m.employer_id "
                          "AND a.period = %s", [period], computed={
                              "assessment": "a.id", "member": "m.id", "account_no": "m.account_no", "name": "m.name", "base": "m.base",
                              "employer_rate": "m.employer_rate", "member_rate": "m.member_rate", "employer_amount": "m.employer_amount",
                              "member_amount": "m.member_amount", "amount": "m.monthly_amount"})
            for scope, day in (("entry", paid_on), ("entry", allocated_on), ("assessment", assessed_on)):
                SerialCounter.objects.create(scope=scope, day=day, last=employers)
        timer.step(f"{period:%Y-%m}: 缴款, 汇缴分配 (lines), 汇缴核定 (snapshot) of {employers} employers")
    _sql("UPDATE employers_employer SET paid_up_to = %s", [month_add(first, MONTHS - 1)])
    _sql("DROP TABLE scale_due")


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        # INDEX_CLEANUP ON: the 封存 leave dead items on under 2 % of the members' pages, which a plain VACUUM skips; those
        # pages then stay not all-visible and the headcount's index-only scan fetches 9,000 rows from the heap (49 → 13 ms).
        cursor.execute("VACUUM (INDEX_CLEANUP ON, ANALYZE)")


def build_flavour(*, cast: Cast, sizes: list[int], timer: Timer) -> dict:
    """What a live center also has, done through the services: sealed members, members moved in by 缴存人调动, the
    current month's 汇缴核定 of the large employer with part of its money, open 清册, applications waiting."""
    from approvals.models import Application
    from approvals.services.batch import RowsInvalid, batch_complete, batch_line_add
    from approvals.services.flow import application_pass
    from gjj_portal.errors import BusinessError
    from members.models import Member
    from members.services import StatusItem, members_seal
    from remittance.selectors import current_period
    from remittance.services import assessment_create, payment_record

    summary: dict = {}
    large, agent = cast.large, cast.agent
    current = current_period()
    nxt = month_add(current, 1)
    # 封存: 1 % of the large employer's members, 2 % of every tenth small one's (at least one)
    ids = list(Member.objects.filter(employer=large).order_by("pk").values_list("pk", flat=True)[:: 100])
    members_seal(employer=large, items=[StatusItem(pk, "与单位终止劳动关系") for pk in ids], actor=agent)
    sealed = len(ids)
    from employers.models import Employer

    for employer in Employer.objects.exclude(pk=large.pk).order_by("pk")[::10]:
        count = max(1, Member.objects.filter(employer=employer).count() // 50)
        ids = list(Member.objects.filter(employer=employer).order_by("-pk").values_list("pk", flat=True)[:count])
        members_seal(employer=employer, items=[StatusItem(pk, "与单位终止劳动关系") for pk in ids], actor=None)
        sealed += len(ids)
    summary["sealed"] = sealed
    timer.step(f"封存: {sealed:,} members (members_seal)")

    def add(code: str, rows: list[dict], *, agent=agent, employer=large) -> object | None:
        batch = None
        for row in rows:
            try:
                (line, *_rest) = batch_line_add(agent=agent, row=row, batch=batch, employer=employer, business_code=code)
            except RowsInvalid as error:
                print(f"    {code}: row refused: {error.errors[:2]}", flush=True)
                continue
            except BusinessError as error:
                print(f"    {code}: refused: {error}", flush=True)
                break
            batch = line.batch
        return batch

    movable = list(Member.objects.filter(status=Member.Status.SEALED).exclude(employer=large).order_by("pk")[:30])

    def moving(people, start=current):
        return [{"id_number": m.id_number, "base": f"{m.base}", "start_period": f"{start:%Y-%m}"} for m in people]

    # 缴存人调动 into the large employer (one person per 清册), approved by the center: members_transfer moves the
    # person and the balance (内部转移)
    for person in movable[:20]:
        batch = add("transfer_in", moving([person]))
        if batch is None:
            continue
        batch_complete(batch=batch, agent=agent)
        application = Application.objects.get(batch=batch)
        application_pass(application=application, reviewer=cast.reviewer, version=application.version, opinion="同意")
    moved = Member.objects.filter(employer=large, id_index__in=[m.id_index for m in movable[:20]]).count()
    summary["transferred in"] = moved
    timer.step(f"缴存人调动: {moved} members moved in (approved)")
    # the current month's 汇缴核定 of the large employer, and a 缴款 that covers half of it
    assessment = assessment_create(employer=large, agent=agent, period=current)
    payment_record(employer=large, amount=(assessment.amount / 2).quantize(Decimal("0.01")), value_date=date.today(),
                   bank_serial_no=f"SC{current:%Y%m}{large.account_no}-1", reviewer=cast.reviewer)
    summary["open assessment"] = f"{current:%Y-%m}: {assessment.headcount:,} members, {assessment.amount:,.2f}"
    timer.step(f"汇缴核定 {current:%Y-%m} of the large employer ({assessment.headcount:,} members), half paid")
    # applications waiting for the center: 缴存人调动 of ten more, 基数调整 of ten members; the same at three small employers
    pending = 0
    for person in movable[20:21]:  # one open 清册 per business: one 调动 waits
        batch = add("transfer_in", moving([person], nxt))  # the current month is assessed by now
        if batch is not None:
            batch_complete(batch=batch, agent=agent)
            pending += 1
    normal = list(Member.objects.filter(employer=large, status=Member.Status.NORMAL).order_by("pk").values_list("account_no", "base")[:10])
    rows = [{"account_no": no, "new_base": f"{base + 500}", "effective_period": f"{nxt:%Y-%m}"} for no, base in normal]
    batch = add("base_adjust", rows)
    if batch is not None:
        batch_complete(batch=batch, agent=agent)
        pending += 1
    for employer, other in cast.others:
        first_member = Member.objects.filter(employer=employer, status=Member.Status.NORMAL).order_by("pk").first()
        if first_member is None:
            continue
        batch = add("base_adjust", [{"account_no": first_member.account_no, "new_base": f"{first_member.base + 300}",
                                     "effective_period": f"{nxt:%Y-%m}"}], agent=other, employer=employer)
        if batch is not None:
            batch_complete(batch=batch, agent=other)
            pending += 1
    summary["applications waiting"] = pending
    # open 清册 (录入中) of the large employer: 缴存人登记, 缴存人封存, 缴存人信息变更
    start = sum(sizes) + 1000  # ID numbers nobody has yet
    add("member_register", [{"name": person_name(start + k), "id_type": "居民身份证", "id_number": id_number(start + k),
                             "phone": "13904770002", "base": "6000.00", "employer_rate": "12%", "member_rate": "12%",
                             "start_period": f"{nxt:%Y-%m}"} for k in range(3)])
    add("member_seal", [{"account_no": no, "reason": "辞职"} for no, _b in normal[-2:]])
    add("member_change", [{"account_no": normal[0][0], "landline": "0477-8581234", "address": "鄂尔多斯市东胜区天骄北路2号"}])
    from approvals.models import Batch

    summary["open 清册"] = Batch.objects.filter(employer=large, status=Batch.Status.DRAFT).count()
    timer.step(f"{pending} applications waiting for the center, {summary['open 清册']} open 清册")
    return summary


def build(*, args, name: str, secrets_: dict, env: dict) -> dict:
    """Drop, migrate and fill the scratch database; returns what was built."""
    timer = Timer()
    recreate_database(name)
    for command in (["migrate", "--verbosity", "0"], ["createcachetable"]):
        subprocess.run([PYTHON, "manage.py", *command], env=env, cwd=ROOT, check=True)
    timer.step("database created and migrated")
    django_setup(env)
    from employers.models import Employer
    from remittance.balances import balances_rebuild
    from remittance.journal import reconcile
    from remittance.selectors import current_period

    sizes = employer_sizes(args.members, args.employers, args.large)
    last = month_add(current_period(), -1)
    first = month_add(last, -(MONTHS - 1))
    cast = build_center(sizes=sizes, secrets_=secrets_, first=first)
    employers = list(Employer.objects.order_by("pk"))
    timer.step(f"center, {len(employers):,} employers, their 未分配 accounts, the bench users")
    _sql("SET synchronous_commit = off")  # a crash during the build means building again anyway
    with keys_deferred(DEFERRED_TABLES):
        build_members(employers=employers, sizes=sizes, first=first, last=last, timer=timer)
        build_months(cast=cast, first=first, timer=timer)
    timer.step(f"indexes and keys of {', '.join(DEFERRED_TABLES)} made again")
    written = balances_rebuild()
    timer.step(f"balance table rebuilt from the lines ({written:,} rows)")
    vacuum_analyze()
    timer.step("VACUUM ANALYZE")
    summary = build_flavour(cast=cast, sizes=sizes, timer=timer)
    vacuum_analyze()
    timer.step("VACUUM ANALYZE")
    problems = reconcile()
    timer.step(f"reconcile(): {'ok' if not problems else problems[:3]}")
    from remittance.models import AssessmentLine, Line

    seconds = time.monotonic() - timer.started
    summary.update({
        "journal lines": Line.objects.count(), "assessment lines": AssessmentLine.objects.count(), "reconcile": problems[:10] or "ok",
        "largest employers": sorted(sizes, reverse=True)[:5], "median employer": statistics.median(sizes), "smallest employer": min(sizes),
        "steps": [(label, round(s, 1)) for label, s in timer.steps],
    })
    _sql(f"CREATE TABLE {MARKER} (params jsonb NOT NULL, seconds double precision NOT NULL, built_at timestamptz NOT NULL DEFAULT now(), "
         "summary jsonb NOT NULL)")
    _sql(f"INSERT INTO {MARKER} (params, seconds, summary) VALUES (%s, %s, %s)",
         [json.dumps(build_params(args)), seconds, json.dumps(summary, ensure_ascii=False, default=str)])
    print(f"  built in {seconds:.0f} s: {summary['journal lines']:,} journal lines, {summary['assessment lines']:,} assessment lines",
          flush=True)
    return {"seconds": seconds, "summary": summary}


# ---------------------------------------------------------------- the walk


@dataclass
class Page:
    audience: str  # agent / center
    name: str  # the URL's name with its namespace
    route: str  # the pattern, as written in the URL conf
    path: str = ""  # filled in
    skipped: str = ""  # why it is not measured


# The objects the walk fills a route's converters with: keyed by the literal route before a `pk`-like converter
# (`pk` means another model under each prefix), or by the converter's keyword alone.
def _value_queries(cast: Cast) -> dict[str, Callable[[], object]]:
    from approvals import registry
    from approvals.models import Application, Archive, Batch, BatchImport, BatchLine, Message
    from members.models import Member
    from remittance.models import Assessment, Debit, DebitAgreement, DebitRun, Entry, Payment, Supplement

    large = cast.large

    def first(queryset):
        return queryset.values_list("pk", flat=True).first()

    return {
        "batches/<pk>": lambda: first(Batch.objects.filter(employer=large, status=Batch.Status.DRAFT).order_by("pk")),
        "batches/<batch_pk>": lambda: first(Batch.objects.filter(employer=large, status=Batch.Status.SUBMITTED).order_by("pk")),
        "batches/<pk>/lines/<line_pk>": lambda: first(BatchLine.objects.filter(batch__employer=large, batch__status=Batch.Status.DRAFT)
                                                      .order_by("batch", "row_no")),
        "remittance/assessments/<pk>": lambda: first(Assessment.objects.filter(employer=large, status=Assessment.Status.ALLOCATED).order_by("-period")),
        "remittance/allocate/<pk>": lambda: first(Assessment.objects.filter(employer=large, status=Assessment.Status.ASSESSED)),
        "remittance/entries/<pk>": lambda: first(Entry.objects.filter(employer=large, kind=Entry.Kind.REMITTANCE).order_by("-posted_on", "-pk")),
        "remittance/supplements/<pk>": lambda: first(Supplement.objects.filter(employer=large).order_by("-pk")),
        "remittance/debit/<pk>": lambda: first(Debit.objects.filter(employer=large).order_by("-pk")),
        "remittance/debit/agreements/<pk>": lambda: first(DebitAgreement.objects.filter(employer=large).order_by("-pk")),
        "employer/agents/<pk>": lambda: cast.colleague.pk,
        "center/agents/<pk>": lambda: cast.colleague.pk,
        "center/payments/<pk>": lambda: first(Payment.objects.filter(employer=large).order_by("-pk")),
        "center/debit/<pk>": lambda: first(DebitRun.objects.order_by("-pk")),
        "center/overdue/<pk>": lambda: large.pk,
        "messages/<pk>": lambda: first(Message.objects.filter(employer=large).order_by("-pk")),
        "applications/<pk>": lambda: first(Application.objects.filter(employer=large).order_by("-pk")),
        "center/applications/<pk>": lambda: first(Application.objects.filter(employer=large, status=Application.Status.SUBMITTED).order_by("pk")),
        "archives/<pk>": lambda: first(Archive.objects.filter(application__employer=large).order_by("-pk")),
        "applications/<pk>/archives/<archive_pk>": lambda: first(Archive.objects.filter(application__employer=large).order_by("-pk")),
        "employer/departments/<pk>": lambda: _departments(large),
        "prints/<pk>": lambda: None,
        "<account_no>": lambda: Member.objects.filter(employer=large).order_by("pk").values_list("account_no", flat=True).first(),
        "<code>": lambda: [business.code for business in registry.all()],
        "<panel>": lambda: ["messages", "todo", "done", "mine"],
        "<uuid>": lambda: BatchImport.objects.filter(employer=large).values_list("uuid", flat=True).first(),
    }


def _departments(employer) -> int | None:
    from employers import models

    model = getattr(models, "Department", None)  # 部门管理 (issue 18): absent in older trees
    return None if model is None else model.objects.filter(employer=employer).values_list("pk", flat=True).first()


CONVERTER = re.compile(r"<(?:(?P<converter>\w+):)?(?P<name>\w+)>")


def url_routes() -> list[tuple[str, str, object]]:
    """(route, name, view) of every pattern of the URL conf, in order."""
    from django.urls import URLResolver, get_resolver

    found = []

    def walk(patterns, prefix: str, namespaces: list[str]):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern), namespaces + ([pattern.namespace] if pattern.namespace else []))
            else:
                found.append((prefix + str(pattern.pattern), ":".join([*namespaces, pattern.name or "?"]), pattern.callback))

    walk(get_resolver().url_patterns, "", [])
    return found


def audience(route: str, view) -> str:
    """Whose page it is: the center's (/center/…), an agent's, or '' for the sign-in pages, the public ones and the admin."""
    from django.conf import settings

    if route.startswith(settings.GJJ_ADMIN_PATH) or getattr(view, "login_required", True) is False:
        return ""
    if route.split("/")[0] in ("login", "logout", "password"):
        return ""
    return "center" if route.startswith("center/") else "agent"


def walk_pages(values: dict[str, Callable[[], object]]) -> list[Page]:
    """Every agent and center page of the URL conf, its converters filled from `values` (see _value_queries); a route
    whose converter has no value is kept with the reason. A converter that yields a list gives one page per value."""
    pages: list[Page] = []
    seen = set()
    for route, name, view in url_routes():
        who = audience(route, view)
        if not who:
            continue
        fills: list[dict[str, str]] = [{}]
        reason = ""
        for match in CONVERTER.finditer(route):
            key = match["name"]
            literal = CONVERTER.sub(lambda m: f"<{m['name']}>", route[:match.end()])
            query = values.get(literal.rstrip("/")) or values.get(f"<{key}>")
            if query is None:
                reason = f"nothing to fill <{key}> of {literal!r} with (no entry in the walk's value table)"
                break
            found = query()
            if found is None or found == []:
                reason = f"no object for <{key}> in the built data"
                break
            options = found if isinstance(found, list) else [found]
            fills = [{**fill, key: str(option)} for fill in fills for option in options]
        if reason:
            pages.append(Page(who, name, route, skipped=reason))
            continue
        for fill in fills:
            path = "/" + CONVERTER.sub(lambda m, fill=fill: fill[m["name"]], route)
            if path in seen:
                continue
            seen.add(path)
            pages.append(Page(who, name, route, path=path))
    return pages


# ---------------------------------------------------------------- the clients


def django_setup(env: dict) -> None:
    import django

    os.environ.update({k: v for k, v in env.items() if k.startswith("GJJ_") or k in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")})
    for part in reversed(env["PYTHONPATH"].split(os.pathsep)):
        if part not in sys.path:
            sys.path.insert(0, part)
    django.setup()


def sign_in(port: int, *, center: bool, cast_names: dict, secrets_: dict) -> dict[str, str]:
    """One browser's session (bench/soak.py's client: the login form, TOTP)."""
    from bench.soak import Client, Stats

    client = Client("center" if center else "agent", port, Stats(), time.monotonic() + 600)
    if center:
        client.login("/center/login/", {"username": cast_names["reviewer"], "password": secrets_["password"]}, secrets_["totp"])
    else:
        client.login("/login/", {"account_no": cast_names["account_no"], "login_name": "scale", "password": secrets_["password"]},
                     secrets_["totp"])
    return dict(client.cookies)


def get(port: int, path: str, cookies: dict, conn: http.client.HTTPConnection | None = None):
    """One GET on a kept connection (opened again when the server closed it): (status, headers, body, seconds)."""
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    headers = {"Host": f"127.0.0.1:{port}", "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), "User-Agent": "gjj-scale"}
    started = time.perf_counter()
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
    except (OSError, http.client.HTTPException):
        conn.close()
        return None, {}, b"", time.perf_counter() - started
    seconds = time.perf_counter() - started
    if response.will_close:
        conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, body, seconds


@dataclass
class Result:
    label: str
    path: str
    times: list = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    queries: list = field(default_factory=list)
    db_ms: list = field(default_factory=list)
    seconds: float = 0.0

    def row(self) -> dict:
        times = sorted(self.times) or [0.0]
        return {
            "page": self.label, "path": self.path, "n": len(self.times), "p50": statistics.median(times) * 1000,
            "p95": percentile(times, 0.95) * 1000, "p99": percentile(times, 0.99) * 1000, "rps": len(self.times) / self.seconds if self.seconds else 0,
            "queries": statistics.median(self.queries) if self.queries else None, "queries max": max(self.queries) if self.queries else None,
            "db ms": statistics.median(self.db_ms) if self.db_ms else None, "statuses": dict(self.statuses),
        }


def measure(port: int, label: str, path: str, cookies: dict, *, clients: int, seconds: float) -> Result:
    """`clients` threads GET the page again and again for `seconds`, each on its own kept connection."""
    result = Result(label, path)
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while time.monotonic() < deadline:
            status, headers, _body, took = get(port, path, cookies, conn)
            with lock:
                result.times.append(took)
                result.statuses[str(status or "conn error")] += 1
                if "x-query-count" in headers:
                    result.queries.append(int(headers["x-query-count"]))
                    result.db_ms.append(float(headers.get("x-query-ms", 0)))
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    result.seconds = time.monotonic() - started
    return result


def probe(port: int, page: Page, cookies: dict, downloads: bool) -> str:
    """One GET before measuring: the reason to leave the page out, or ''."""
    status, headers, _body, took = get(port, page.path, cookies)
    kind = headers.get("content-type", "")
    if status == 405:
        return "POST only (405 to GET)"
    if status in (403, 404):
        return f"{status} to this user with the values filled"
    if status is None:
        return "the connection failed"
    if not downloads and (kind.startswith(DOWNLOAD_TYPES) or "attachment" in headers.get("content-disposition", "")):
        return f"download ({kind.split(';')[0]}, {took * 1000:.0f} ms once); measure with --downloads"
    return ""


def markdown(rows: list[dict], floor_p95: float | None) -> str:
    lines = ["| page | path | p50 ms | p95 ms | p99 ms | req/s | queries | db ms | statuses | target |",
             "|---|---|---:|---:|---:|---:|---:|---:|---|---|"]
    for row in rows:
        queries = "" if row["queries"] is None else f"{row['queries']:g}" + (f" (≤{row['queries max']})" if row["queries max"] != row["queries"] else "")
        statuses = " ".join(f"{k}×{v}" for k, v in sorted(row["statuses"].items()))
        target = ""
        if not row["page"].startswith(tuple(FLOOR.values())):
            ok = row["p95"] <= 150 and (floor_p95 is None or row["p95"] <= 3 * floor_p95)
            target = "ok" if ok else "**over**"
        db_ms = "" if row["db ms"] is None else f"{row['db ms']:.0f}"  # the median request's time in its queries
        lines.append(f"| {row['page']} | `{row['path']}` | {row['p50']:.0f} | {row['p95']:.0f} | {row['p99']:.0f} | {row['rps']:.1f} | {queries} "
                     f"| {db_ms} | {statuses} | {target} |")
    return "\n".join(lines)


def serve_and_measure(*, args, name: str, secrets_: dict, env: dict, workdir: Path, port: int) -> dict:
    django_setup(env)
    from django.db import connections

    from employers.models import User
    from gjj_portal.printing.signing import _self_signed

    _self_signed(Path(env["GJJ_SIGNING_CERT"]), Path(env["GJJ_SIGNING_KEY"]), "鄂尔多斯市住房公积金中心")
    # A database built by an older tree gets the migrations added since (the served code expects them).
    for command in (["migrate", "--verbosity", "0"], ["collectstatic", "--noinput", "--verbosity", "0"]):
        subprocess.run([PYTHON, "manage.py", *command], env=env, cwd=ROOT, check=True)
    agent = User.objects.select_related("employer").get(login_name="scale", is_primary=True, employer__account_no="600001")
    reviewer = User.objects.get(username="scale-reviewer")
    colleague = User.objects.get(login_name="scale2", employer=agent.employer)
    cast = Cast(large=agent.employer, agent=agent, colleague=colleague, reviewer=reviewer)
    pages = walk_pages(_value_queries(cast))
    connections.close_all()

    log = workdir / "gunicorn.log"
    gunicorn = subprocess.Popen([GUNICORN, "gjj_portal.wsgi", "--workers", "4", "--bind", f"127.0.0.1:{port}", "--timeout", "120"],
                                env=env, cwd=ROOT, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    loads = {"before": os.getloadavg(), "speed before": cpu_speed()}
    results: list[Result] = []
    skipped: list[tuple[Page, str]] = [(p, p.skipped) for p in pages if p.skipped]
    try:
        wait_up(port)
        sessions = {
            "agent": sign_in(port, center=False, cast_names={"account_no": agent.employer.account_no}, secrets_=secrets_),
            "center": sign_in(port, center=True, cast_names={"reviewer": reviewer.username}, secrets_=secrets_),
        }
        todo = [p for p in pages if not p.skipped and (not args.only or args.only in p.path or args.only in p.name)]
        print(f"  {len(todo)} pages to measure, {len(skipped)} left out by the walk; {args.clients} clients × {args.seconds:g} s each",
              flush=True)
        for path, label in FLOOR.items():
            results.append(measure(port, label, path, sessions["agent"], clients=args.clients, seconds=args.seconds))
        loads["during"] = []
        for page in todo:
            cookies = sessions[page.audience]
            reason = probe(port, page, cookies, args.downloads)
            if reason:
                skipped.append((page, reason))
                print(f"  – {page.path:<52} {reason}", flush=True)
                continue
            result = measure(port, f"{page.audience}: {page.name}", page.path, cookies, clients=args.clients, seconds=args.seconds)
            results.append(result)
            loads["during"].append(os.getloadavg()[0])
            row = result.row()
            print(f"  {page.path:<54} p50 {row['p50']:6.0f}  p95 {row['p95']:6.0f}  p99 {row['p99']:6.0f} ms  {row['rps']:6.1f}/s  "
                  f"q {row['queries']}  {dict(result.statuses)}  load {loads['during'][-1]:.2f}", flush=True)
        for path, label in FLOOR.items():  # the floor again, at the end of the same run
            results.append(measure(port, f"{label}, again", path, sessions["agent"], clients=args.clients, seconds=args.seconds))
        workers = children(gunicorn.pid)
        rss = {pid: peak_rss_kib(pid) for pid in workers}
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        try:
            gunicorn.wait(30)
        except subprocess.TimeoutExpired:
            gunicorn.kill()
    loads["after"] = os.getloadavg()
    loads["speed after"] = cpu_speed()
    from remittance.journal import reconcile

    connections.close_all()
    problems = reconcile()  # the journal and the balance table, after the run
    print(f"  reconcile() after the run: {'ok' if not problems else problems[:5]}", flush=True)
    rows = [r.row() for r in results]
    # the floor of the target: the lower of the one-query view's two p95s (first and last in the run)
    floors = [r["p95"] for r in rows if r["page"].startswith(FLOOR["/healthz/db/"])]
    return {"rows": rows, "floor p95": min(floors, default=None), "skipped": [(p.audience, p.name, p.route, p.path, why) for p, why in skipped],
            "rss kib": rss, "loads": loads, "server errors": server_errors(log), "reconcile": problems[:10] or "ok"}


# ---------------------------------------------------------------- main


def cpu_speed() -> float:
    """The machine's speed as the run sees it: ms for a fixed pure-Python loop, the best of three. On a shared virtual
    machine it moves with the host's load (1.5–2 × between hours here), so runs compare only at a similar figure."""
    best = float("inf")
    for _ in range(3):
        started, x = time.perf_counter(), 0
        for i in range(3_000_000):
            x += i * i
        best = min(best, time.perf_counter() - started)
    return best * 1000


def report(*, args, name: str, built: dict, measured: dict | None) -> str:
    uptime = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    out = [f"# bench/scale.py — {datetime.now(UTC):%Y-%m-%d %H:%M} UTC — database {name}", "",
           f"build: {json.dumps(built.get('params'), ensure_ascii=False)}, {built.get('seconds', 0):.0f} s"
           + (" (this run)" if built.get("this run") else f" (built {built.get('built_at')})"),
           f"data: {json.dumps(built.get('summary', {}).get('journal lines'))} journal lines, "
           f"{json.dumps(built.get('summary', {}).get('assessment lines'))} assessment lines, reconcile {built.get('summary', {}).get('reconcile')}",
           f"uptime at the end: {uptime}"]
    if measured:
        loads = measured["loads"]
        during = loads.get("during") or [0]
        rss = measured["rss kib"]
        out += [f"load average before {loads['before'][0]:.2f}, during {min(during):.2f}–{max(during):.2f} (median "
                f"{statistics.median(during):.2f}), after {loads['after'][0]:.2f}; {args.clients} clients × {args.seconds:g} s per page",
                f"CPU speed (cpu_speed(): ms for a fixed Python loop, lower is faster): {loads.get('speed before', 0):.0f} before, "
                f"{loads.get('speed after', 0):.0f} after",
                f"peak worker RSS (VmHWM): {max(rss.values(), default=0) / 1024:.0f} MiB "
                f"({', '.join(f'{v / 1024:.0f}' for v in sorted(rss.values()))} MiB)",
                f"server errors logged: {len(measured['server errors'])}; reconcile() after the run: {measured['reconcile']}", "",
                markdown(measured["rows"], measured["floor p95"]), "", "Left out:", "",
                "| who | page | route | why |", "|---|---|---|---|"]
        out += [f"| {who} | {page} | `{path or route}` | {why} |" for who, page, route, path, why in measured["skipped"]]
        out += [f"- {line}" for line in measured["server errors"][:20]]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--employers", type=int, default=2_000)
    parser.add_argument("--large", type=int, default=50_000, help="members of the large employer whose agent is measured")
    parser.add_argument("--seconds", type=float, default=10, help="seconds per page")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--only", default="", help="measure only pages whose path or URL name contains this")
    parser.add_argument("--downloads", action="store_true", help="measure the downloads (PDF, Excel, CSV) too")
    parser.add_argument("--database", default="gjj_scale", help="scratch database (must end in _scale)")
    parser.add_argument("--rebuild", action="store_true", help="drop the database and build it again")
    parser.add_argument("--build-only", action="store_true")
    parser.add_argument("--serve-only", action="store_true", help="measure; refuse when the database is not built")
    args = parser.parse_args()
    name = scratch_database(args.database)

    state = database_state(name)
    params = build_params(args)
    must_build = args.rebuild or not state
    if state and state["params"] != params and not args.rebuild:
        raise SystemExit(f"{name} holds a build of {state['params']}, not {params}: run with --rebuild, or another --database")
    if must_build and args.serve_only:
        raise SystemExit(f"{name} is not built: run without --serve-only")
    secrets_ = bench_secrets(name, create=must_build)
    workdir = Path(tempfile.mkdtemp(prefix="gjj-scale-"))
    port = free_port()
    env = server_env(workdir, name, port, master_key=secrets_["master_key"], extra={"GJJ_BENCH_QUERY_HEADER": "1"})
    print(f"scale: database {name}, {params}; load average {os.getloadavg()[0]:.2f}; folder {workdir}", flush=True)
    if must_build:
        done = build(args=args, name=name, secrets_=secrets_, env=env)
        built = {"params": params, "seconds": done["seconds"], "summary": done["summary"], "this run": True}
    else:
        built = state
        print(f"  already built {state['built_at']:%Y-%m-%d %H:%M} in {state['seconds']:.0f} s: skipping the build", flush=True)
    measured = None
    if not args.build_only:
        measured = serve_and_measure(args=args, name=name, secrets_=secrets_, env=env, workdir=workdir, port=port)
    text = report(args=args, name=name, built=built, measured=measured)
    OUT_DIR.mkdir(exist_ok=True)
    out = OUT_DIR / f"scale-{name}-{datetime.now(UTC):%Y%m%d-%H%M}.md"
    out.write_text(text)
    print("\n" + text)
    print(f"written to {out}")


if __name__ == "__main__":
    main()
