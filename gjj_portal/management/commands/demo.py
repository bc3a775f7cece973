"""Build the demo center (README「演示账号」). Development only: refuses to run without DEBUG."""

import random
from datetime import date, datetime
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from stdnum.cn import ric

from employers.demo import demo_agents, demo_departments
from employers.models import Center, CenterPolicy, Employer, EmployerGroup, GroupTransferGrant, User
from gjj_portal.money import month_add
from members.models import Member, MemberChange
from members.services import member_open

DEMO_PASSWORD = "Demo@Ordos2026"
DEMO_TOTP_SECRET = "GJJDEMOORDOSGJJDEMOORDOSGJJDEMOO"

SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍鹏辉建文斌宇浩凯鑫博晨阳佳欣雪琳璐婷倩宏志海波峰东亮红梅兵飞"
REGIONS = ["150602", "150621", "150622", "150623", "150624", "150625", "150626", "150627", "150603"]

EMPLOYERS = [
    {
        "account_no": "100001", "name": "鄂尔多斯市示例能源有限公司", "uscc": "91150602MA0N00001X",
        "login": "jbr01", "agent": "王海燕", "phone": "13904770001", "normal": 30, "sealed": 2,
        "address": "鄂尔多斯市东胜区天骄北路1号", "legal_rep": "刘建国", "bank": "中国工商银行鄂尔多斯分行",
    },
    {
        "account_no": "100002", "name": "鄂尔多斯市示例建设有限公司", "uscc": "91150602MA0N00002X",
        "login": "jbr02", "agent": "赵志刚", "phone": "13904770002", "normal": 9, "sealed": 1,
        "address": "鄂尔多斯市康巴什区北区2号", "legal_rep": "孙志强", "bank": "中国建设银行鄂尔多斯分行",
    },
]
# 缴存人单位调整 (issue 14): a branch of 100001, linked with it as one group; each may move the other's members in.
GROUP = {"name": "鄂尔多斯市示例能源集团", "note": "同一法人：鄂尔多斯市示例能源有限公司及其东胜分公司"}
BRANCH = {
    "account_no": "100003", "name": "鄂尔多斯市示例能源有限公司东胜分公司", "uscc": "91150602MA0N00003X",
    "login": "jbr03", "agent": "周晓梅", "phone": "13904770003", "normal": 5, "sealed": 1,
    "address": "鄂尔多斯市东胜区鄂尔多斯西街3号", "legal_rep": "刘建国", "bank": "中国工商银行鄂尔多斯分行",
}


# 托收 (issue 16): 100004 pays by 托收; last month's debit failed (余额不足) and waits in 待办 for 重新托收.
COLLECTION = {
    "account_no": "100004", "name": "鄂尔多斯市示例物流有限公司", "uscc": "91150602MA0N00004X",
    "login": "jbr04", "agent": "郝丽娜", "phone": "13904770004", "normal": 4, "sealed": 0,
    "address": "鄂尔多斯市康巴什区北区大街8号", "legal_rep": "王志强", "bank": "中国工商银行鄂尔多斯分行",
}


# 缓缴 (issue 16): 100002 is in an approved 缓缴 of six months from the month the demo is built.
DEFERRAL = {"account_no": "100002", "reason": "受建设项目回款延迟影响，生产经营困难，经职工代表大会讨论通过申请缓缴"}


def _demo_image(name: str):
    """A small white image standing for a scanned resolution (电子档案 are images)."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (240, 120), "white")
    ImageDraw.Draw(image).rectangle((10, 10, 230, 110), outline="black")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


# 三权分立 (SEC-20): 系统管理员, 安全审计员, 安全管理员; staff accounts, none of them a superuser.
STAFF = [
    ("gly01", "张管理", User.Role.ADMIN),
    ("sjy01", "孙审计", User.Role.AUDITOR),
    ("aqy01", "钱安全", User.Role.SECURITY),
]


def uscc_with_check(code17: str) -> str:
    from stdnum.cn import uscc

    return code17 + uscc.calc_check_digit(code17)


class Command(BaseCommand):
    help = "创建演示数据：鄂尔多斯市住房公积金中心、示例单位、经办人、审核员、系统管理员、安全审计员和安全管理员。"

    def handle(self, *args, **options):
        if not settings.DEBUG:
            raise CommandError("演示数据只能在开发模式（GJJ_DEBUG=1）下创建。")
        if Employer.objects.filter(account_no="100001").exists():
            self.rng = random.Random(20260103)
            added = self._missing_staff() + self._missing_branch() + self._missing_deferral() + self._missing_collection()
            added += demo_agents(self._user)
            added += self._missing_departments()
            if added:
                self.stdout.write(f"演示数据已存在，只补开了新增的演示账号：{'、'.join(added)}。")
            else:
                self.stdout.write("演示数据已存在，未做改动。如需重建，请删除数据库文件后重新运行。")
            return
        self.rng = random.Random(20260101)
        with transaction.atomic():
            self._center()
            for spec in EMPLOYERS:
                self._employer(spec)
            self._user("shenhe01", "李审核", User.Role.REVIEWER)
            self._branch()
            self._allocated_before_seal("100002")  # so that 缴存人调动 of its sealed member moves a balance (issue 14)
            for username, name, role in STAFF:
                self._user(username, name, role, staff=True)
            from remittance.demo import demo_cycle

            demo_cycle()
            self._deferral(DEFERRAL["account_no"])
            self._collection()
            demo_agents(self._user)  # 经办人管理: each employer's 主经办人, and 100001's 仅录入 agent jbr01b
            self._departments()  # 单位部门管理: 100001's three departments, its members among them
        self.stdout.write(self.style.SUCCESS("演示数据已创建。登录密码 Demo@Ordos2026，动态口令密钥 " + DEMO_TOTP_SECRET))

    def _center(self) -> None:
        Center.objects.create(
            name="鄂尔多斯市住房公积金中心", seal_text="鄂尔多斯市住房公积金中心 业务专用章",
            bank_name="中国建设银行鄂尔多斯分行营业部", bank_account="15001706000000001234",
            bank_account_name="鄂尔多斯市住房公积金中心", address="鄂尔多斯市康巴什区市民中心", phone="0477-12329",
        )
        for year in (2023, 2024, 2025, 2026):
            CenterPolicy.objects.create(
                year=year, base_floor=Decimal("1980.00"), base_cap=Decimal("32592.00"),
                rate_min=Decimal("0.0500"), rate_max=Decimal("0.1200"), equal_rates=True,
                rounding=CenterPolicy.Rounding.YUAN, document="鄂公中发〔2023〕16号",
            )

    def _branch(self) -> None:
        """100003, linked with 100001 as one group, each granted to move the other's members in (单位调整)."""
        self._employer(BRANCH)
        group = EmployerGroup.objects.create(**GROUP)
        Employer.objects.filter(account_no__in=["100001", BRANCH["account_no"]]).update(group=group)
        main, branch = Employer.objects.get(account_no="100001"), Employer.objects.get(account_no=BRANCH["account_no"])
        GroupTransferGrant.objects.create(employer=main, source=branch)
        GroupTransferGrant.objects.create(employer=branch, source=main)

    def _missing_branch(self) -> list[str]:
        """An older demo database gets 100003 and its link (the demo only grows)."""
        if Employer.objects.filter(account_no=BRANCH["account_no"]).exists():
            return []
        with transaction.atomic():
            self._branch()
        return [BRANCH["login"]]

    def _allocated_before_seal(self, account_no: str) -> None:
        """The employer's month before last assessed, paid and allocated while its sealed member still worked there;
        the seal (and its history) follows, so the sealed member has a balance for 缴存人调动 to move."""
        from remittance.selectors import current_period
        from remittance.services import allocation_post_nested, assessment_create, payment_record

        employer = Employer.objects.get(account_no=account_no)
        agent = User.objects.get(employer=employer, role=User.Role.AGENT)
        reviewer = User.objects.get(username="shenhe01")
        sealed = list(Member.objects.filter(employer=employer, status=Member.Status.SEALED))
        Member.objects.filter(pk__in=[m.pk for m in sealed]).update(status=Member.Status.NORMAL)
        allocated = month_add(current_period(), -2)
        Employer.objects.filter(pk=employer.pk).update(paid_up_to=month_add(allocated, -1))
        Member.objects.filter(employer=employer).update(paid_up_to=month_add(allocated, -1))
        employer.refresh_from_db()
        assessment = assessment_create(employer=employer, agent=agent, period=allocated)
        payment_record(employer=employer, amount=assessment.amount, value_date=allocated.replace(day=5),
                       bank_serial_no=f"DEMO{allocated:%Y%m}{employer.account_no}", reviewer=reviewer)
        allocation_post_nested(assessment=assessment, agent=agent)
        sealed_at = timezone.make_aware(datetime(allocated.year, allocated.month, 28, 15, 0))
        Member.objects.filter(pk__in=[m.pk for m in sealed]).update(status=Member.Status.SEALED)
        MemberChange.objects.filter(member__in=sealed, kind=MemberChange.Kind.STATUS).update(at=sealed_at)

    def _deferral(self, account_no: str) -> None:
        """缓缴 (条例 第20条, issue 16): the employer applied for six months from this month with its 职代会 resolution as
        电子档案, and the center approved it; the home header reads 缓缴 with the period, 汇缴核定 refuses those months."""
        from approvals.services import application_pass, application_resubmit, archive_add, form_submit
        from employers.selectors import current_month

        employer = Employer.objects.get(account_no=account_no)
        agent = User.objects.get(employer=employer, role=User.Role.AGENT)
        start = current_month()
        application = form_submit(employer=employer, agent=agent, business_code="deferral", row={
            "start_period": f"{start:%Y-%m}", "end_period": f"{month_add(start, 5):%Y-%m}", "reason": DEFERRAL["reason"]})
        archive_add(application=application, agent=agent, files=[_demo_image("职工代表大会缓缴决议.png")])
        application = application_resubmit(application=application, agent=agent)
        application_pass(application=application, reviewer=User.objects.get(username="shenhe01"), version=application.version,
                         opinion="同意缓缴")

    def _departments(self) -> int:
        """100001's three departments (单位部门管理), its members dealt among them in 个人账号 order; a member already
        in a department stays there. Returns how many members were placed."""
        departments = demo_departments(account_no="100001")
        if not departments:
            return 0
        members = list(Member.objects.filter(employer__account_no="100001", department__isnull=True).order_by("account_no")
                       .values_list("pk", flat=True))
        for index, department in enumerate(departments):
            Member.objects.filter(pk__in=members[index::len(departments)]).update(department=department)
        return len(members)

    def _missing_departments(self) -> list[str]:
        """An older demo database gets 100001's departments (the demo only grows)."""
        from employers.models import Department

        if Department.objects.filter(employer__account_no="100001").exists():
            return []
        with transaction.atomic():
            self._departments()
        return ["100001的三个部门"]

    def _missing_deferral(self) -> list[str]:
        """An older demo database gets 100002's 缓缴 (the demo only grows)."""
        from employers.models import Deferral

        if Deferral.objects.filter(employer__account_no=DEFERRAL["account_no"]).exists():
            return []
        from gjj_portal.errors import BusinessError

        try:
            with transaction.atomic():
                self._deferral(DEFERRAL["account_no"])
        except BusinessError as exc:  # this month already assessed there: the older demo keeps going without it
            self.stdout.write(f"未能为{DEFERRAL['account_no']}补建缓缴：{exc}")
            return []
        return [f"{DEFERRAL['account_no']}的缓缴"]

    def _collection(self) -> None:
        """托收 (issue 16): 100004 and its agent jbr04, paying by 托收 (remittance.demo.demo_collection)."""
        from remittance.demo import demo_collection

        self._employer(COLLECTION)
        demo_collection(employer_account_no=COLLECTION["account_no"])

    def _missing_collection(self) -> list[str]:
        """An older demo database gets 100004 and its 托收 (the demo only grows)."""
        if Employer.objects.filter(account_no=COLLECTION["account_no"]).exists():
            return []
        with transaction.atomic():
            self._collection()
        return [COLLECTION["login"]]

    def _missing_staff(self) -> list[str]:
        """An older demo database gets the administrator logins added since (the demo never drops or renames one)."""
        added = []
        with transaction.atomic():
            for username, name, role in STAFF:
                if not User.objects.filter(username=username).exists():
                    self._user(username, name, role, staff=True)
                    added.append(username)
        return added

    def _user(self, username: str, name: str, role: str, *, employer=None, login_name: str = "", staff: bool = False, phone: str = "") -> User:
        user = User(
            username=username, login_name=login_name or username, display_name=name, role=role, employer=employer,
            is_staff=staff, is_superuser=False, password_expires=False, must_change_password=False,
            password_changed_at=timezone.now(), totp_confirmed_at=timezone.now(),
        )
        user.set_password(DEMO_PASSWORD)
        user.totp_secret = DEMO_TOTP_SECRET
        user.phone = phone
        user.save()
        return user

    def _id_number(self, birth: date, female: bool) -> str:
        seq = self.rng.randrange(0, 50) * 2 + (0 if female else 1)
        body = f"{self.rng.choice(REGIONS)}{birth:%Y%m%d}{self.rng.randrange(0, 10)}{seq:02d}"
        return body + ric.calc_check_digit(body + "0")

    def _employer(self, spec: dict) -> None:
        employer = Employer.objects.create(
            account_no=spec["account_no"], name=spec["name"], uscc=uscc_with_check(spec["uscc"][:17]),
            address=spec["address"], legal_rep=spec["legal_rep"], contact_name=spec["agent"], contact_phone="0477-8888" + spec["account_no"][-3:],
            bank_name=spec["bank"], bank_account="6222" + spec["account_no"] + "0000001", opened_on=date(2015, 3, 1),
            employer_rate=Decimal("0.1200"), member_rate=Decimal("0.1200"),
        )
        agent = self._user(
            User.agent_username(employer.account_no, spec["login"]), spec["agent"], User.Role.AGENT,
            employer=employer, login_name=spec["login"], phone=spec["phone"],
        )
        for index in range(spec["normal"] + spec["sealed"]):
            female = self.rng.random() < 0.45
            birth = date(self.rng.randrange(1965, 2002), self.rng.randrange(1, 13), self.rng.randrange(1, 29))
            name = self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))
            base = Decimal(self.rng.randrange(2500, 18000)).quantize(Decimal("1")) + Decimal("0.00")
            member = member_open(
                employer=employer, agent=agent, name=name, id_number=self._id_number(birth, female),
                gender=Member.Gender.FEMALE if female else Member.Gender.MALE, birth_date=birth, base=base,
                employer_rate=employer.employer_rate, member_rate=employer.member_rate,
                start_period=date(2025, 7, 1), phone=f"139{self.rng.randrange(10**7, 10**8)}", opened_on=date(2025, 6, 20),
            )
            opened_at = timezone.make_aware(datetime(2025, 6, 20, 9, 30))
            MemberChange.objects.filter(member=member).update(at=opened_at)
            if index >= spec["normal"]:
                member.status = Member.Status.SEALED
                member.seal_reason = "辞职"
                member.save(update_fields=["status", "seal_reason"])
                change = MemberChange.objects.create(
                    member=member, employer=employer, kind=MemberChange.Kind.STATUS, field="账户状态",
                    old=Member.Status.NORMAL.label, new=Member.Status.SEALED.label, reason="辞职", actor=agent,
                )
                MemberChange.objects.filter(pk=change.pk).update(at=timezone.make_aware(datetime(2025, 9, 30, 15, 0)))
