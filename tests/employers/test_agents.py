"""经办人管理 (issue 17 item 1): the 主经办人 adds, edits, disables and re-enables agents; a new agent's one-time password
comes by SMS and the first login enrols TOTP; the center approves a new agent when its setting says so; the admin adds
and edits agents and names the 主经办人."""

import re
from datetime import date, timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from employers import services
from employers.models import AgentPermission, Center, TwoPersonRule, User
from employers.sms import LocmemBackend
from gjj_portal.errors import BusinessError
from gjj_portal.models import AuditEvent
from tests import factories

pytestmark = pytest.mark.django_db

PASSWORD_RE = re.compile(r"临时密码(\S+?)（")


class _SendAtOnce:
    """The SMS goes after the commit; these tests run inside one transaction, so send it at once."""

    atomic = staticmethod(transaction.atomic)
    on_commit = staticmethod(lambda fn, **kw: fn())


@pytest.fixture(autouse=True)
def _sms_at_once(monkeypatch):
    from employers import agent_services

    monkeypatch.setattr(agent_services, "transaction", _SendAtOnce)


@pytest.fixture
def primary(agent):
    User.objects.filter(pk=agent.pk).update(is_primary=True)
    agent.is_primary = True
    return agent


@pytest.fixture
def primary_client(primary):
    client = Client()
    factories.login_as(client, primary)
    return client


def _form(**kw) -> dict:
    data = {"display_name": "李晓东", "login_name": "jbr05", "phone": "13904770055", "id_number": factories.valid_id_number(),
            "valid_from": "", "valid_to": ""}
    data.update(kw)
    return data


def _perm_field(key: str) -> str:
    from employers.permissions import grantables

    return f"perm_{[g.key for g in grantables()].index(key)}"


def _sent_password() -> str:
    assert LocmemBackend.outbox, "no SMS was sent"
    return PASSWORD_RE.search(LocmemBackend.outbox[-1]["text"]).group(1)


def test_primary_adds_an_agent_limited_to_one_business_and_it_gets_its_password_by_sms(primary_client, primary, employer):
    response = primary_client.post(reverse("employers:agent-add"), _form(**{_perm_field("member_register"): "prepare"}))
    assert response.status_code == 302 and response["Location"] == reverse("employers:agents")
    new = User.objects.get(employer=employer, login_name="jbr05")
    assert new.is_active and new.permissions_limited and not new.is_primary
    assert dict(AgentPermission.objects.filter(agent=new).values_list("business_code", "level")) == {"member_register": "prepare"}
    assert new.phone == "13904770055" and new.id_number_enc and new.id_number not in new.id_number_enc  # encrypted at rest
    assert new.must_change_password and new.temp_password_expires_at > timezone.now() + timedelta(hours=71)
    message = LocmemBackend.outbox[-1]
    assert message["phone"] == "13904770055" and employer.account_no in message["text"] and "jbr05" in message["text"]
    assert new.check_password(_sent_password())
    assert AuditEvent.objects.filter(event="employers.agent.created", object_id=str(new.pk)).exists()


def test_the_sms_password_logs_in_once_to_enrol_totp_then_must_be_changed(primary, employer):
    services.agent_create(employer=employer, actor=primary, login_name="jbr05", display_name="李晓东", phone="13904770055",
                          levels={"member_register": "prepare"})
    password = _sent_password()
    client = Client()
    response = client.post(reverse("employers:login"), {"account_no": employer.account_no, "login_name": "jbr05",
                                                        "password": password, "code": ""})
    assert response["Location"] == reverse("employers:enrol")  # the existing first-login flow: bind the authenticator


def test_only_the_primary_manages_agents(agent_client, colleague, employer):
    """非主经办人访问经办人管理：403（中文）。"""
    for url in (reverse("employers:agents"), reverse("employers:agent-add"), reverse("employers:agent-edit", args=[colleague.pk]),
                reverse("employers:agent-two-person")):
        response = agent_client.get(url)
        assert response.status_code == 403 and "只有本单位的主经办人可以管理经办人" in response.text
    assert agent_client.post(reverse("employers:agent-disable", args=[colleague.pk])).status_code == 403
    with pytest.raises(BusinessError):
        services.agent_disable(agent=colleague, actor=User.objects.get(login_name="jbr01", employer=employer))


def test_another_employers_agent_is_a_404(primary_client, outsider):
    for name in ("employers:agent-edit", "employers:agent-disable", "employers:agent-enable"):
        method = primary_client.get if name == "employers:agent-edit" else primary_client.post
        assert method(reverse(name, args=[outsider.pk])).status_code == 404
    outsider.refresh_from_db()
    assert outsider.is_active


def test_disable_ends_the_agents_session_and_enable_lets_it_back(primary_client, colleague, colleague_client):
    assert colleague_client.get(reverse("home")).status_code == 200
    primary_client.post(reverse("employers:agent-disable", args=[colleague.pk]))
    colleague.refresh_from_db()
    assert not colleague.is_active and colleague.agent_status == "已停用"
    assert colleague_client.get(reverse("home")).status_code == 302  # signed out at once (SEC-16)
    primary_client.post(reverse("employers:agent-enable", args=[colleague.pk]))
    colleague.refresh_from_db()
    assert colleague.is_active and colleague.agent_status == "正常"


def test_the_primary_cannot_be_disabled(primary_client, primary):
    primary_client.post(reverse("employers:agent-disable", args=[primary.pk]))
    primary.refresh_from_db()
    assert primary.is_active


def test_edit_changes_details_and_permissions(primary_client, colleague):
    data = _form(display_name="王新", login_name="jbr09", phone="13904770099", valid_from="2026-01-01", valid_to="2099-12-31",
                 **{_perm_field("member_seal"): "submit", _perm_field("remittance:index"): "prepare"})
    response = primary_client.post(reverse("employers:agent-edit", args=[colleague.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    colleague.refresh_from_db()
    assert (colleague.display_name, colleague.phone, colleague.valid_to) == ("王新", "13904770099", date(2099, 12, 31))
    assert colleague.permissions_limited
    assert colleague.may("member_seal", "submit") and colleague.may("remittance:index", "prepare")
    assert not colleague.may("remittance:index", "submit") and not colleague.may("member_register", "view")


def test_a_taken_login_name_is_refused_by_name(primary_client, colleague):
    response = primary_client.post(reverse("employers:agent-add"), _form(login_name=colleague.login_name))
    assert response.status_code == 200 and f"登录名称「{colleague.login_name}」已被本单位其他经办人使用" in response.text


@pytest.mark.parametrize(("field", "value", "message"), [
    ("phone", "1390477", "手机号码应为以1开头的11位数字"),
    ("id_number", "150602199005170011", "居民身份证号码校验位错误"),
    ("login_name", "admin", "系统保留名称"),
    ("valid_to", "2020-01-01", "有效期截止日期不能早于开始日期"),
])
def test_bad_input_is_named_in_chinese(primary_client, field, value, message):
    response = primary_client.post(reverse("employers:agent-add"), _form(valid_from="2026-01-01", **{field: value}))
    assert response.status_code == 200 and message in response.text
    assert not User.objects.filter(login_name="jbr05").exists()


def test_an_agent_outside_its_validity_cannot_log_in_and_its_session_ends(colleague, colleague_client, employer):
    User.objects.filter(pk=colleague.pk).update(valid_to=timezone.localdate() - timedelta(days=1))
    assert colleague_client.get(reverse("home")).status_code == 302
    response = Client().post(reverse("employers:login"), {"account_no": employer.account_no, "login_name": colleague.login_name,
                                                          "password": factories.PASSWORD, "code": factories.totp_now()})
    assert response.status_code == 200 and "登录失败" in response.text


def test_center_approval_when_the_setting_says_so(primary, employer, reviewer_client, reviewer):
    Center.objects.update(agent_approval_required=True)
    new = services.agent_create(employer=employer, actor=primary, login_name="jbr05", display_name="李晓东", phone="13904770055")
    assert new.center_review == "pending" and not new.is_active and not LocmemBackend.outbox
    page = reviewer_client.get(reverse("employers:center-agents"))
    assert "李晓东" in page.text and "139****0055" in page.text and "13904770055" not in page.text
    reviewer_client.post(reverse("employers:center-agent-approve", args=[new.pk]))
    new.refresh_from_db()
    assert new.is_active and new.center_review == "" and new.check_password(_sent_password())
    assert reviewer_client.post(reverse("employers:center-agent-approve", args=[new.pk])).status_code == 404  # decided once


def test_center_refusal_leaves_the_agent_unable_to_log_in(primary, employer, reviewer_client):
    Center.objects.update(agent_approval_required=True)
    new = services.agent_create(employer=employer, actor=primary, login_name="jbr05", display_name="李晓东", phone="13904770055")
    reviewer_client.post(reverse("employers:center-agent-refuse", args=[new.pk]))
    new.refresh_from_db()
    assert not new.is_active and new.agent_status == "中心未通过" and not LocmemBackend.outbox
    with pytest.raises(BusinessError):
        services.agent_enable(agent=new, actor=primary)


def test_agents_cannot_open_the_centers_review(agent_client):
    assert agent_client.get(reverse("employers:center-agents")).status_code == 403


def test_two_person_setting_is_saved_for_clear_businesses(primary_client, employer):
    from employers.forms import TwoPersonForm
    from employers.permissions import grantables

    form = TwoPersonForm(grantables=grantables())
    index = [g.key for g in form.grantables].index("member_register")
    primary_client.post(reverse("employers:agent-two-person"), {f"two_{index}": "on"})
    assert set(TwoPersonRule.objects.filter(employer=employer).values_list("business_code", flat=True)) == {"member_register"}


def test_the_list_shows_each_agent_and_what_it_may_do(primary_client, primary, employer):
    services.agent_create(employer=employer, actor=primary, login_name="jbr05", display_name="李晓东", phone="13904770055",
                          levels={"member_register": "prepare"})
    page = primary_client.get(reverse("employers:agents")).text
    assert "主经办人" in page and "李晓东" in page and "缴存人登记（仅录入）" in page and "139****0055" in page


def test_provision_user_makes_the_first_agent_primary(employer):
    import io

    from django.core.management import call_command

    call_command("provision_user", role="agent", login="first", employer=employer.account_no, stdout=io.StringIO())
    call_command("provision_user", role="agent", login="second", employer=employer.account_no, stdout=io.StringIO())
    assert User.objects.get(login_name="first").is_primary and not User.objects.get(login_name="second").is_primary


# ---------------------------------------------------------------- the admin adds and edits agents


@pytest.fixture
def admin_client(db):
    admin = factories.make_user(role=User.Role.ADMIN, login_name="gly09", is_staff=True)
    client = Client()
    factories.login_as(client, admin)
    return client


def test_admin_adds_an_agent_and_its_password_goes_by_sms(admin_client, employer):
    from django.conf import settings

    url = f"/{settings.GJJ_ADMIN_PATH}employers/agent/add/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"employer": employer.pk, "login_name": "jbr06", "display_name": "赵六", "phone": "13904770066",
                                       "id_number": "", "valid_from": "", "valid_to": "", "permissions_limited": ""})
    assert response.status_code == 302, response.content.decode()[:3000]
    new = User.objects.get(employer=employer, login_name="jbr06")
    assert new.is_primary  # the first agent the center registers
    assert new.check_password(_sent_password()) and new.must_change_password


def test_admin_names_another_primary(admin_client, primary, colleague):
    from django.conf import settings

    url = f"/{settings.GJJ_ADMIN_PATH}employers/agent/{colleague.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    response = admin_client.post(url, {
        "login_name": colleague.login_name, "display_name": "新主经办人", "phone": "13904770099", "id_number": "",
        "valid_from": "", "valid_to": "", "is_primary": "on", "permissions_limited": "", "must_change_password": "",
        "password_expires": "on",
        "business_permissions-TOTAL_FORMS": "0", "business_permissions-INITIAL_FORMS": "0",
        "business_permissions-MIN_NUM_FORMS": "0", "business_permissions-MAX_NUM_FORMS": "1000"})
    assert response.status_code == 302, response.content.decode()[:3000]
    colleague.refresh_from_db()
    primary.refresh_from_db()
    assert colleague.is_primary and not primary.is_primary and colleague.display_name == "新主经办人"
    assert User.objects.get(pk=colleague.pk).phone == "13904770099"


def test_demo_has_the_primary_jbr01_and_the_maker_jbr01b(settings):
    """README: 100001's jbr01 is its 主经办人; jbr01b prepares only, with the demo password and TOTP secret."""
    import io

    from django.core.management import call_command

    from gjj_portal.management.commands.demo import DEMO_PASSWORD, DEMO_TOTP_SECRET

    settings.DEBUG = True
    call_command("demo", stdout=io.StringIO())
    call_command("demo", stdout=io.StringIO())  # again: nothing added twice
    primary = User.objects.get(username="100001:jbr01")
    maker = User.objects.get(username="100001:jbr01b")
    assert primary.is_primary and not maker.is_primary and maker.permissions_limited
    assert maker.check_password(DEMO_PASSWORD) and maker.totp_secret == DEMO_TOTP_SECRET and maker.has_totp
    assert maker.may("member_register", "prepare") and not maker.may("member_register", "submit")
    assert maker.may("remittance:index", "prepare") and not maker.may("remittance:index", "submit")  # 核定, not 分配
    assert maker.may("members:query", "view")
    assert User.objects.filter(employer__account_no="100001", login_name="jbr01b").count() == 1
    assert all(User.objects.filter(employer=e, role=User.Role.AGENT, is_primary=True).count() == 1
               for e in {a.employer for a in User.objects.filter(role=User.Role.AGENT).select_related("employer")})
