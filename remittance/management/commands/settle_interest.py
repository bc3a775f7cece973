"""年度结息: `manage.py settle_interest --year 2025` credits every open member's interest for 2025-07-01 … 2026-06-30.

Run by the center after 30 June (or scheduled); running it again posts only what is missing."""

from django.core.management.base import BaseCommand, CommandError

from employers.models import User
from gjj_portal.errors import BusinessError
from remittance.interest import interest_settle, last_settled_year


class Command(BaseCommand):
    help = "年度结息：按积数法为各单位职工结算一个缴存年度（7月1日至次年6月30日）的利息；重复运行不会重复入账。"

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="缴存年度，如 2025 表示 2025年7月1日至2026年6月30日；默认为最近一个已结束的年度")
        parser.add_argument("--by", default="", help="办理人（中心审核员的用户名），记入流水与审计日志")

    def handle(self, *args, **options):
        year = options["year"] or last_settled_year()
        actor = None
        if options["by"]:
            actor = User.objects.filter(username=options["by"], role=User.Role.REVIEWER).first()
            if actor is None:
                raise CommandError(f"没有用户名为 {options['by']} 的中心审核员。")
        try:
            run = interest_settle(year=year, actor=actor,
                                  on_employer=lambda employer, entry: self.stdout.write(
                                      f"  {employer.account_no} {employer.name}: "
                                      + (f"{entry.headcount} 人，利息 {entry.amount:,.2f} 元（流水号 {entry.serial_no}）" if entry else "无利息")))
        except BusinessError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(self.style.SUCCESS(
            f"{run.year}年度结息完成：{run.employers} 个单位，{run.members} 人，利息合计 {run.interest:,.2f} 元（年利率 {run.rate * 100:.2f}%）。"))
