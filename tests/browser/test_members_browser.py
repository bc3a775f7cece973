"""Issue 3 in a real browser, as the demo agent jbr01: 缴存人登记 by hand and by 批量导入 (20 rows, 3 faulty,
each fault read, fixed and uploaded again), then 封存 and 启封 of one member. Driven by visible labels only."""

from datetime import date

import pytest

from employers.models import User
from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET
from members.models import Member
from tests.browser.helpers import agent_login, pick_member, start_month
from tests.factories import valid_id_number
from tests.members.factories import cjk_name, register_file, register_row

pytestmark = pytest.mark.django_db(transaction=True)


def new_id(n: int) -> str:
    return valid_id_number(n, birth=date(1999, 9, 9), region="150602")


def upload_register_file(page, folder, rows, name="登记.xlsx"):
    """缴存人登记 → 【批量导入】 → choose the file → 【确定】."""
    path = folder / name
    path.write_bytes(register_file(rows))
    page.goto("/business/member_register/")
    page.get_by_role("link", name="批量导入").click()
    page.get_by_label("导入文件").set_input_files(str(path))
    page.get_by_role("button", name="确定").click()


def confirm_next(page):
    page.once("dialog", lambda dialog: dialog.accept())


def test_register_by_hand_and_by_import_then_seal_and_unseal(page, demo, tmp_path):
    agent = User.objects.get(username="100001:jbr01")
    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.get_by_role("link", name="缴存人登记").click()

    # 单个录入 → 【录入清册】 → 【完成办理】
    page.get_by_label("姓名").fill("浏览器张三")
    page.get_by_label("证件号码").fill(new_id(1))
    page.get_by_label("手机号码").fill("13904771234")
    page.get_by_label("缴存基数").fill("6000")
    page.get_by_label("起缴年月").fill(start_month(agent.employer))
    page.get_by_role("button", name="录入清册").click()
    page.get_by_role("cell", name="浏览器张三").wait_for()
    page.get_by_text("合计人数 1 人").wait_for()
    confirm_next(page)
    page.get_by_role("button", name="完成办理").click()
    page.get_by_text("缴存人登记办理完成").wait_for()
    assert Member.objects.filter(name="浏览器张三", employer=agent.employer).exists()

    # 【批量导入】 a 20-row file with 3 faulty rows: each fault is named with its row and column
    rows = [register_row(name=cjk_name("导入职工", i), id_number=new_id(10 + i), start_period=start_month(agent.employer)) for i in range(20)]
    good_ids = {4: rows[4]["id_number"], 9: rows[9]["id_number"], 15: rows[15]["id_number"]}
    rows[4]["id_number"] = rows[4]["id_number"][:17] + ("1" if rows[4]["id_number"][17] != "1" else "2")
    rows[9]["base"] = "100"
    rows[15]["phone"] = "1390477"
    upload_register_file(page, tmp_path, rows)
    page.get_by_text("共 20 行数据，其中正确 17 行，有错误 3 行").wait_for()
    page.get_by_text("第6行「证件号码」：校验位错误").wait_for()
    page.get_by_text("第11行「缴存基数」：缴存基数不能低于").wait_for()
    page.get_by_text("第17行「手机号码」：手机号码应为以1开头的11位数字").wait_for()

    # fix the file and upload again: without errors, it goes straight into the 清册; complete
    rows[4]["id_number"], rows[9]["base"], rows[15]["phone"] = good_ids[4], "6000.00", "13904771234"
    fixed = tmp_path / "登记-已修改.xlsx"
    fixed.write_bytes(register_file(rows))
    page.get_by_role("link", name="重新上传").click()
    page.get_by_label("导入文件").set_input_files(str(fixed))
    page.get_by_role("button", name="确定").click()
    page.get_by_text("已将 20 条记录录入清册。").wait_for()
    page.get_by_role("link", name="查看清册").click()
    page.get_by_text("合计人数 20 人").wait_for()
    confirm_next(page)
    page.get_by_role("button", name="完成办理").click()
    page.get_by_text("缴存人登记办理完成").wait_for()
    assert Member.objects.filter(name__startswith="导入职工", employer=agent.employer).count() == 20

    # 封存 one member, then 启封 them
    member = Member.objects.get(name="导入职工〇")
    page.goto("/")
    page.get_by_role("link", name="缴存人状态变更").click()
    page.get_by_label("变更原因").select_option("辞职")
    pick_member(page, member)
    page.get_by_role("button", name="录入清册").click()
    page.get_by_role("cell", name="导入职工〇").wait_for()
    confirm_next(page)
    page.get_by_role("button", name="确定封存").click()
    page.get_by_text("缴存人封存办理完成").wait_for()
    member.refresh_from_db()
    assert member.status == Member.Status.SEALED

    page.get_by_role("link", name="启封", exact=True).click()
    page.get_by_label("变更原因").select_option("重新入职")
    pick_member(page, member)
    page.get_by_role("button", name="录入清册").click()
    page.get_by_role("cell", name="导入职工〇").wait_for()
    confirm_next(page)
    page.get_by_role("button", name="确定启封").click()
    page.get_by_text("缴存人启封办理完成").wait_for()
    member.refresh_from_db()
    assert member.status == Member.Status.NORMAL


def test_delete_asks_and_removes_the_row_without_reload(page, demo):
    agent = User.objects.get(username="100001:jbr01")
    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    page.goto("/business/member_register/")
    for n, name in ((31, "待删除甲"), (32, "保留乙")):
        page.get_by_label("姓名").fill(name)
        page.get_by_label("证件号码").fill(new_id(n))
        page.get_by_label("手机号码").fill("13904771234")
        page.get_by_label("缴存基数").fill("6000")
        page.get_by_label("起缴年月").fill(start_month(agent.employer))
        page.get_by_role("button", name="录入清册").click()
        page.get_by_role("cell", name=name).wait_for()
    page.get_by_text("合计人数 2 人").wait_for()
    page.once("dialog", lambda dialog: dialog.dismiss())  # 【取消】 keeps the row
    page.get_by_role("row", name="待删除甲").get_by_role("button", name="删除").click()
    page.get_by_text("合计人数 2 人").wait_for()
    assert page.get_by_role("cell", name="待删除甲").is_visible()
    confirm_next(page)  # 【确定】 deletes it
    page.get_by_role("row", name="待删除甲").get_by_role("button", name="删除").click()
    page.get_by_role("cell", name="待删除甲").wait_for(state="detached")
    page.get_by_text("合计人数 1 人").wait_for()
    assert page.get_by_role("cell", name="保留乙").is_visible()


def test_the_task_worker_checks_an_import_while_the_page_shows_progress(page, demo, settings, tmp_path):
    """Production's path: the upload queues the check, the page polls, the worker checks, the page turns into the result."""
    from django.core.management import call_command

    from tests.browser.conftest import SERVER_LOCK

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    agent = User.objects.get(username="100001:jbr01")
    agent_login(page, agent, password=DEMO_PASSWORD, secret=DEMO_TOTP_SECRET)
    rows = [register_row(name=cjk_name("后台职工", i), id_number=new_id(40 + i), start_period=start_month(agent.employer)) for i in range(30)]
    rows[7]["base"] = "100"
    upload_register_file(page, tmp_path, rows)
    page.get_by_text("正在校验：登记.xlsx").wait_for()
    page.get_by_text("正在排队等待校验").wait_for()
    with SERVER_LOCK:  # the worker and the polling page share the test database's one connection
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    page.get_by_text("共 30 行数据，其中正确 29 行，有错误 1 行").wait_for()
    page.get_by_text("第9行「缴存基数」").wait_for()
