"""Create an agent, reviewer or administrator with a one-time temporary password (SEC-11).

The three administrator roles of 三权分立 (SEC-20) are 系统管理员 (`admin`), 安全审计员 (`auditor`) and 安全管理员
(`security`): staff accounts that open the admin pages their role is given, none of them a superuser.

The password comes from the CSPRNG, is printed once and never stored in clear; it must be
changed at first login and stops working after 72 hours. The authenticator is bound at first
login too (SEC-06), so this command never sees a second factor.
"""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from employers.models import Employer, User
from employers.services import temporary_password
from gjj_portal import audit

TEMP_PASSWORD_HOURS = 72
__all__ = ["Command", "temporary_password"]


class Command(BaseCommand):
    help = "开通用户（经办人、中心审核员、系统管理员、安全审计员或安全管理员），生成一次性临时密码（72小时内有效，首次登录须修改）。"

    def add_arguments(self, parser):
        parser.add_argument("--role", choices=[r.value for r in User.Role], required=True)
        parser.add_argument("--login", required=True, help="登录名称（经办人在单位内唯一）")
        parser.add_argument("--employer", help="单位账号（经办人必填）")
        parser.add_argument("--name", default="", help="姓名")
        parser.add_argument("--phone", default="", help="手机号（经办人接收短信验证码）")

    def handle(self, *args, role, login, employer, name, phone, **options):
        employer_obj = None
        if role == User.Role.AGENT:
            employer_obj = Employer.objects.filter(account_no=employer or "").first()
            if employer_obj is None:
                raise CommandError("经办人须指定已存在的单位账号（--employer）。")
            username = User.agent_username(employer_obj.account_no, login)
        elif employer:
            raise CommandError("只有经办人属于单位，中心用户不能指定 --employer。")
        else:
            username = login
        if User.objects.filter(username=username).exists():
            raise CommandError("该用户已存在。")
        password = temporary_password()
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    username, password=password, role=role, employer=employer_obj, login_name=login, display_name=name,
                    is_staff=role in User.STAFF_ROLES, is_superuser=False,
                    must_change_password=True, password_changed_at=timezone.now(),
                    temp_password_expires_at=timezone.now() + timedelta(hours=TEMP_PASSWORD_HOURS),
                    # 经办人管理: the first agent the center registers is the employer's 主经办人
                    is_primary=role == User.Role.AGENT and not employer_obj.agents.filter(is_primary=True).exists(),
                )
                if phone:
                    user.phone = phone
                    user.save(update_fields=["phone_enc"])
                audit.record("admin.user.provisioned", obj=user, employer=employer_obj, data={"role": role})
        except ValidationError as error:
            raise CommandError("；".join(error.messages))
        self.stdout.write(f"已开通用户 {username}。临时密码（只显示这一次，{TEMP_PASSWORD_HOURS}小时内有效，首次登录须修改）：")
        self.stdout.write(password)
