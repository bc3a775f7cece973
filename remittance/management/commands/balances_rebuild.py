"""The balance table (issue 18) against the journal: `manage.py balances_rebuild --check` reports where EmployerPosting
or EmployerBalance disagree with the lines (exit status 1 when they do); without --check it writes them again from
the lines — every employer's, or those named by --employer — and then checks.

    GJJ_DEBUG=1 .venv/bin/python manage.py balances_rebuild --check
    GJJ_DEBUG=1 .venv/bin/python manage.py balances_rebuild --employer 100001
"""

import time

from django.core.management.base import BaseCommand, CommandError

from employers.models import Employer
from remittance.balances import balances_check, balances_rebuild


class Command(BaseCommand):
    help = "余额表（单位账户变动、单位余额）与流水明细核对（--check）或按明细重建；不一致时以非零状态退出。"

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="只核对，不重建")
        parser.add_argument("--employer", action="append", default=[], metavar="单位账号", help="只重建该单位（可多次给出）")

    def handle(self, *args, **options):
        if not options["check"]:
            ids = None
            if options["employer"]:
                found = dict(Employer.objects.filter(account_no__in=options["employer"]).values_list("account_no", "pk"))
                if missing := [no for no in options["employer"] if no not in found]:
                    raise CommandError(f"没有单位账号为 {'、'.join(missing)} 的单位。")
                ids = sorted(found.values())
            started = time.perf_counter()
            written = balances_rebuild(employer_ids=ids)
            self.stdout.write(f"已按流水明细重建余额表：{written} 条单位账户变动（{time.perf_counter() - started:.1f} 秒）。")
        problems = balances_check()
        for problem in problems:
            self.stdout.write(f"  {problem}")
        if problems:
            raise CommandError(f"余额表与流水明细不一致（{len(problems)} 处），可运行 manage.py balances_rebuild 按明细重建。")
        self.stdout.write(self.style.SUCCESS("余额表与流水明细一致。"))
