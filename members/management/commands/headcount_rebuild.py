"""缴存人数合计 (members.headcount) against the members: `manage.py headcount_rebuild --check` reports where the kept
headcount differs (exit status 1 when it does); without --check it counts every employer's members again, then checks.

    GJJ_DEBUG=1 .venv/bin/python manage.py headcount_rebuild --check
"""

import time

from django.core.management.base import BaseCommand, CommandError

from members.headcount import headcount_problems, headcount_rebuild, triggers_present


class Command(BaseCommand):
    help = "缴存人数合计表与缴存人核对（--check）或重新统计；不一致时以非零状态退出。"

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="只核对，不重新统计")

    def handle(self, *args, **options):
        if len(triggers_present()) != 3:
            raise CommandError("缴存人表缺少维护人数合计的触发器：请运行 manage.py migrate。")
        if not options["check"]:
            started = time.perf_counter()
            written = headcount_rebuild()
            self.stdout.write(f"已按缴存人重新统计人数合计：{written} 行（{time.perf_counter() - started:.1f} 秒）。")
        problems = headcount_problems()
        for problem in problems:
            self.stdout.write(f"  {problem}")
        if problems:
            raise CommandError(f"缴存人数合计与缴存人不一致（{len(problems)} 处），可运行 manage.py headcount_rebuild 重新统计。")
        self.stdout.write(self.style.SUCCESS("缴存人数合计与缴存人一致。"))
