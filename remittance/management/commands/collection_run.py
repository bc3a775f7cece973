"""托收: `manage.py collection_run`, run daily (cron / systemd timer); on the center's 托收日 (GJJ_DEBIT_DAY, default the
21st) it makes the month's debit run and writes its file for the bank. Other days it does nothing unless --force."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from employers.models import User
from gjj_portal.errors import BusinessError
from remittance.collection import debit_file, debit_file_name, debit_run_create


class Command(BaseCommand):
    help = "托收扣款：在每月托收日（GJJ_DEBIT_DAY，默认21日）为签订托收协议的单位生成扣款批次和扣款文件；其他日期不执行，除非 --force。"

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="不是托收日也立即生成")
        parser.add_argument("--output", default="", help="扣款文件写入的目录（也可在中心业务后台「托收扣款」下载）")
        parser.add_argument("--by", default="", help="办理人（中心审核员的用户名）；定时任务可不填")

    def handle(self, *args, **options):
        today = timezone.localdate()
        day = settings.GJJ_DEBIT_DAY
        if today.day != day and not options["force"]:
            self.stdout.write(f"今天不是托收日（每月{day}日），未生成扣款文件。")
            return
        actor = None
        if options["by"]:
            actor = User.objects.filter(username=options["by"], role=User.Role.REVIEWER).first()
            if actor is None:
                raise CommandError(f"没有用户名为 {options['by']} 的中心审核员。")
        try:
            run = debit_run_create(actor=actor)
        except BusinessError as exc:
            raise CommandError(str(exc)) from None
        if run is None:
            self.stdout.write("没有需要托收的汇缴核定，未生成扣款文件。")
            return
        message = f"托收批次 {run.run_no}：{run.count} 笔，合计 {run.amount:,.2f} 元。"
        if options["output"]:
            path = Path(options["output"]) / debit_file_name(run)
            path.write_bytes(debit_file(run=run))
            message += f" 扣款文件：{path}"
        self.stdout.write(self.style.SUCCESS(message))
