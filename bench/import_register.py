"""Benchmark of 缴存人登记 批量导入 (issue 3): a 50,000-row registration file through the 清册 engine
(read → check → stage → 完成办理), and the same rows through django-import-export into the same
model as the peer. Figures go to docs/performance.md.

    .venv/bin/python bench/import_register.py                                  # SQLite (a fresh file under /tmp)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/gjj_bench .venv/bin/python bench/import_register.py

On PostgreSQL the script works in its own scratch database, "<name>_import" (dropped and created again),
so it never disturbs other benchmarks that use the database named in DATABASE_URL.
"""

import argparse
import io
import os
import sys
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


def fresh_database() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        import psycopg

        parsed = urlparse(url)
        name = parsed.path.lstrip("/") + "_import"
        admin = url.replace(parsed.path, "/postgres")
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = url.replace(parsed.path, f"/{name}")
        return f"PostgreSQL ({name})"
    path = Path(os.environ.setdefault("GJJ_SQLITE_PATH", "/tmp/gjj_bench_import.sqlite3"))
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"SQLite ({path})"


def id_number(n: int, region: str = "110105") -> str:
    from datetime import timedelta

    from stdnum.cn import ric

    birth = date(1970, 1, 1) + timedelta(days=n // 1000)
    body = f"{region}{birth:%Y%m%d}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def _name(n: int) -> str:
    """A name the 姓名 rule accepts (no digits in a name): the running number in Chinese numerals."""
    return "职工" + str(n).translate(str.maketrans("0123456789", "〇一二三四五六七八九"))


def build_file(rows: int, *, region: str = "110105", bad_row: int | None = None) -> bytes:
    """The registration template filled with `rows` distinct people, as an agent would upload it."""
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("清册")
    ws.append(["姓名", "证件类型", "证件号码", "手机号码", "缴存基数", "单位缴存比例", "个人缴存比例", "起缴年月"])
    seen = set()
    n = 0
    while len(seen) < rows:
        n += 1
        number = id_number(n, region)
        if number in seen:
            continue
        seen.add(number)
        base = "100.00" if len(seen) == bad_row else f"{2000 + (n * 37) % 30000}.00"  # 100 元: below the floor
        ws.append([_name(n), "居民身份证", number, f"139{n % 100_000_000:08d}", base, "12%", "12%", "2026-01"])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


PROFILE_DIR: Path | None = None


def timed(label: str, func, results: dict):
    profiler = None
    if PROFILE_DIR is not None:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    value = func()
    results[label] = time.perf_counter() - started
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(PROFILE_DIR / f"{len(results):02d}.prof")
    print(f"  {label:<44} {results[label]:8.2f} s", flush=True)
    return value


def peer_import(content: bytes, employer, rows: int) -> int:
    """django-import-export: a ModelResource into Member with the same checks (ID, phone, base, rates, amounts)."""
    import tablib
    from django.core.exceptions import ValidationError
    from import_export import resources
    from import_export.fields import Field

    from employers.models import CenterPolicy
    from members.models import Member
    from members.services import member_account_numbers, member_amounts
    from members.validators import id_birth_date, id_gender, validate_id_number, validate_phone

    policy = CenterPolicy.for_date(date(2026, 1, 1))
    numbers = iter(member_account_numbers(employer=employer, count=rows))

    class MemberResource(resources.ModelResource):
        name = Field(attribute="name", column_name="姓名")
        account_no = Field(attribute="account_no", column_name="个人账号")
        base = Field(attribute="base", column_name="缴存基数")

        class Meta:
            model = Member
            fields = ("account_no", "name", "base")
            import_id_fields = ("account_no",)

        def before_import_row(self, row, **kwargs):
            number, _warnings = validate_id_number(str(row["证件号码"]))
            if Member.objects.by_id_number(number).exclude(status=Member.Status.CLOSED).exists():
                raise ValidationError("该证件号码已开户")
            row["个人账号"] = next(numbers)
            row["_id"], row["_phone"] = number, validate_phone(str(row["手机号码"]))

        def before_save_instance(self, instance, row, **kwargs):
            from decimal import Decimal

            base = Decimal(str(row["缴存基数"]))
            if not (policy.base_floor <= base <= policy.base_cap):
                raise ValidationError("缴存基数超出上下限")
            rate = Decimal("0.12")
            instance.employer = employer
            instance.gender, instance.birth_date = id_gender(row["_id"]), id_birth_date(row["_id"])
            instance.employer_rate = instance.member_rate = rate
            instance.start_period = date(2026, 1, 1)
            for key, value in member_amounts(base=base, employer_rate=rate, member_rate=rate, policy=policy).items():
                setattr(instance, key, value)
            instance.set_id_number(row["_id"])
            instance.phone = row["_phone"]

    dataset = tablib.Dataset().load(io.BytesIO(content), format="xlsx")
    dataset.append_col([""] * len(dataset), header="个人账号")  # filled per row in before_import_row
    result = MemberResource().import_data(dataset, dry_run=False, raise_errors=True, use_transactions=True)
    return result.totals["new"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--peer-rows", type=int, default=None, help="rows for the django-import-export peer (default: all)")
    parser.add_argument("--profile", type=Path, default=None, help="write a cProfile file per step into this folder")
    args = parser.parse_args()
    if args.profile is not None:
        global PROFILE_DIR
        PROFILE_DIR = args.profile
        PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    engine = fresh_database()

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from approvals import excel, registry
    from approvals.services import batch_complete, batch_import_check, batch_import_stage, batch_open
    from approvals.services.imports import check_file
    from members.businesses import register
    from members.models import Member
    from tests import factories

    results: dict[str, float] = {}
    employer = factories.make_employer(account_no="900002", name="基准测试登记单位")
    agent = factories.make_agent(employer, login_name="bench")
    business = registry.get("member_register")
    from gjj_portal import parallel

    print(f"{engine}: 缴存人登记 {args.rows} rows, check on {parallel.processes()} processes", flush=True)
    content = timed(f"build file ({args.rows} rows)", lambda: build_file(args.rows), results)
    print(f"  {'file size':<44} {len(content) / 1024 / 1024:8.2f} MB", flush=True)

    table = timed("read (zip guard + calamine, all strings)", lambda: excel.read_rows(
        content=content, file_name="bench.xlsx", columns=business.columns, row_limit=register.ROW_LIMIT), results)
    checked = timed("check + seal (row rules, SM4-GCM; all cores)", lambda: check_file(
        business=business, employer=employer, batch=None, rows=table.rows), results)
    assert all(line is not None and not errors for _n, errors, _notices, _key, line in checked), \
        [errors for _n, errors, *_rest in checked if errors][:3]
    table = checked = None  # a task worker holds no earlier file while it checks the next one
    record = timed("upload: read + check + seal + into the 清册 (task)", lambda: batch_import_check(
        employer=employer, agent=agent, business_code=business.code, file_name="bench.xlsx", content=content), results)
    assert record.good_count == args.rows and not record.errors and record.status == record.Status.STAGED
    batch = record.batch
    timed("complete (【完成办理】: open all accounts)", lambda: batch_complete(batch=batch, agent=agent), results)
    assert Member.objects.filter(employer=employer).count() == args.rows
    ours = results["upload: read + check + seal + into the 清册 (task)"] + results["complete (【完成办理】: open all accounts)"]
    print(f"  {'TOTAL (upload + complete)':<44} {ours:8.2f} s", flush=True)

    # A file with one bad row is kept checked; the agent stages the good rows (仅录入正确行).
    faulty = build_file(args.rows, region="110107", bad_row=args.rows // 2)
    other = factories.make_employer(account_no="900004", name="基准测试分步单位")
    other_agent = factories.make_agent(other, login_name="bench2")
    checked = timed("upload of a file with one bad row (task)", lambda: batch_import_check(
        employer=other, agent=other_agent, business_code=business.code, file_name="bench2.xlsx", content=faulty), results)
    assert checked.good_count == args.rows - 1 and checked.status == checked.Status.CHECKED, (checked.status, checked.errors[:3])
    other_batch = batch_open(employer=other, agent=other_agent, business_code=business.code)
    timed("stage its good rows (仅录入正确行)", lambda: batch_import_stage(
        batch_import=checked, batch=other_batch, agent=other_agent, good_only=True), results)

    peer_rows = args.peer_rows or args.rows
    peer_employer = factories.make_employer(account_no="900003", name="基准测试对照单位")
    peer_content = build_file(peer_rows, region="110106")
    new = timed(f"peer: django-import-export ({peer_rows} rows)", lambda: peer_import(peer_content, peer_employer, peer_rows), results)
    assert new == peer_rows
    peer = results[f"peer: django-import-export ({peer_rows} rows)"] * args.rows / peer_rows
    print(f"  {'peer, scaled to ' + str(args.rows) + ' rows':<44} {peer:8.2f} s", flush=True)
    print(f"  {'speed-up':<44} {peer / ours:8.1f} ×", flush=True)


if __name__ == "__main__":
    main()
