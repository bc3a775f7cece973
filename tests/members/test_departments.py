"""单位部门管理 (issue 17 item 2): departments per employer, members in at most one, agents limited to some, the
queries and the 汇缴 documents filtered and subtotalled by department."""

from decimal import Decimal

import pytest
from django.urls import reverse

from employers import services as employer_services
from employers.models import Department
from gjj_portal.errors import BusinessError
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def primary(employer):
    return factories.make_agent(employer, login_name="zhu01", is_primary=True)


@pytest.fixture
def primary_client(primary):
    from django.test import Client

    client = Client()
    factories.login_as(client, primary)
    return client


def _dept(employer, code, name, manager=""):
    return employer_services.department_create(employer=employer, actor=None, code=code, name=name, manager=manager)


# ---------------------------------------------------------------- 新增 / 修改 / 删除


def test_primary_adds_edits_and_deletes_a_department(primary_client, employer):
    response = primary_client.post(reverse("employers:department-add"), {"code": "01", "name": "销售部", "manager": "王经理"})
    assert response.status_code == 302
    department = Department.objects.get(employer=employer, code="01")
    assert (department.name, department.manager) == ("销售部", "王经理")
    page = primary_client.get(reverse("employers:departments")).content.decode()
    assert "销售部" in page and "王经理" in page
    response = primary_client.post(reverse("employers:department-edit", args=[department.pk]), {"code": "01", "name": "市场部", "manager": ""})
    assert response.status_code == 302
    department.refresh_from_db()
    assert department.name == "市场部"
    response = primary_client.post(reverse("employers:department-delete", args=[department.pk]))
    assert response.status_code == 302
    assert not Department.objects.filter(pk=department.pk).exists()


def test_department_code_and_name_are_unique_within_the_employer(employer, other_employer):
    _dept(employer, "01", "销售部")
    with pytest.raises(BusinessError, match="部门编号「01」已存在"):
        _dept(employer, "01", "财务部")
    with pytest.raises(BusinessError, match="部门名称「销售部」已存在"):
        _dept(employer, "02", "销售部")
    assert _dept(other_employer, "01", "销售部").employer == other_employer  # another employer's are its own


def test_duplicate_code_is_shown_on_the_form_in_chinese(primary_client, employer):
    _dept(employer, "01", "销售部")
    response = primary_client.post(reverse("employers:department-add"), {"code": "01", "name": "财务部"})
    assert response.status_code == 200
    assert "部门编号「01」已存在，请换一个。" in response.content.decode()


def test_department_with_members_is_not_deleted(primary_client, employer):
    department = _dept(employer, "01", "销售部")
    member = factories.make_member(employer)
    member.department = department
    member.save(update_fields=["department"])
    response = primary_client.post(reverse("employers:department-delete", args=[department.pk]), follow=True)
    assert "部门「销售部」还有1名缴存人，不能删除" in response.content.decode()
    assert Department.objects.filter(pk=department.pk).exists()


def test_department_an_agent_is_limited_to_is_not_deleted(employer, primary):
    department = _dept(employer, "01", "销售部")
    clerk = factories.make_agent(employer, login_name="jbr02", display_name="李四")
    employer_services.agent_departments_set(agent=clerk, actor=primary, departments=[department])
    with pytest.raises(BusinessError, match="是经办人李四的可办理部门，不能删除"):
        employer_services.department_delete(department=department, actor=primary)


def test_only_the_primary_agent_manages_departments(agent_client, employer):
    department = _dept(employer, "01", "销售部")
    assert agent_client.get(reverse("employers:departments")).status_code == 403
    assert agent_client.post(reverse("employers:department-delete", args=[department.pk])).status_code == 403
    assert Department.objects.filter(pk=department.pk).exists()


def test_another_employers_department_is_404(primary_client, other_employer):
    foreign = _dept(other_employer, "01", "销售部")
    assert primary_client.get(reverse("employers:department-edit", args=[foreign.pk])).status_code == 404
    assert primary_client.post(reverse("employers:department-delete", args=[foreign.pk])).status_code == 404
    assert Department.objects.filter(pk=foreign.pk).exists()


def test_primary_limits_an_agent_to_departments_in_agent_management(primary_client, employer):
    sales, _finance = _dept(employer, "01", "销售部"), _dept(employer, "02", "财务部")
    clerk = factories.make_agent(employer, login_name="jbr02", phone="13904770002")
    page = primary_client.get(reverse("employers:agent-edit", args=[clerk.pk])).content.decode()
    assert "可办理部门" in page
    data = {"display_name": "李四", "login_name": "jbr02", "phone": "13904770002", "departments": [sales.pk]}
    response = primary_client.post(reverse("employers:agent-edit", args=[clerk.pk]), data)
    assert response.status_code == 302
    clerk.refresh_from_db()
    assert clerk.department_scope() == frozenset({sales.pk})
    assert "销售部" in primary_client.get(reverse("employers:agents")).content.decode()
