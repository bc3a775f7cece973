"""The permission matrix of 经办人管理 (issue 17): agent role × business × action, over the registry, so that a business
registered later is covered without touching this file. Each cell is proven on the model (User.may) and on the pages
that enforce it: the 清册 engine's views, the application actions, the home tiles and the registered pages."""

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse

from approvals import registry
from approvals.models import Application, Batch
from employers.models import AgentPermission, TwoPersonRule, User
from employers.permissions import grantables
from tests import factories

pytestmark = pytest.mark.django_db

ACTIONS = ("view", "prepare", "submit")
# role → the level of the business under test it holds (None: 不可办); "primary" and "unlimited" hold everything
ROLES = ("primary", "unlimited", "submit", "prepare", "none")
EXPECTED = {
    "primary": {"view", "prepare", "submit"},
    "unlimited": {"view", "prepare", "submit"},  # registered by the center before 经办人管理: every business
    "submit": {"view", "prepare", "submit"},
    "prepare": {"view", "prepare"},
    "none": set(),
}
KEYS = [g.key for g in grantables()]


def _agent(employer, role: str, key: str, login: str = "", *, only: bool = False) -> User:
    agent = factories.make_agent(employer, login_name=login or f"r{role}")
    if role == "primary":
        User.objects.filter(pk=agent.pk).update(is_primary=True)
    elif role != "unlimited":
        User.objects.filter(pk=agent.pk).update(permissions_limited=True)
        others = [k for k in KEYS if k != key]
        if others and not only:  # a permission on another business never opens this one
            AgentPermission.objects.create(agent=agent, business_code=others[0], level="submit")
        if role in ("submit", "prepare"):
            AgentPermission.objects.create(agent=agent, business_code=key, level=role)
    return User.objects.get(pk=agent.pk)


def _client(user) -> Client:
    client = Client()
    factories.login_as(client, user)
    return client


def test_the_grantable_list_is_the_registry_and_its_pages():
    codes = {b.code for b in registry.all()} | {p.code for p in registry.pages()}
    assert set(KEYS) == codes and len(KEYS) == len(codes)


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("role", ROLES)
def test_matrix_on_the_model(employer, role, key):
    agent = _agent(employer, role, key)
    assert {action for action in ACTIONS if agent.may(key, action)} == EXPECTED[role], (role, key)


def test_a_disabled_agent_may_do_nothing(employer):
    agent = _agent(employer, "primary", KEYS[0])
    agent.is_active = False
    assert not any(agent.may(key, action) for key in KEYS for action in ACTIONS)


BATCH_BUSINESSES = [b.code for b in registry.all() if b.shape == "batch"]
FORM_BUSINESSES = [b.code for b in registry.all() if b.shape == "form"]


@pytest.mark.parametrize("code", [b.code for b in registry.all()])
@pytest.mark.parametrize("role", ("prepare", "none"))
def test_business_page_opens_only_with_a_permission(employer, role, code):
    client = _client(_agent(employer, role, code))
    response = client.get(reverse("approvals:business", args=[code]))
    if role == "none":
        assert response.status_code == 403 and "没有办理" in response.text and registry.get(code).name in response.text
    else:
        assert response.status_code in (200, 302)


@pytest.mark.parametrize("code", BATCH_BUSINESSES)
@pytest.mark.parametrize("role", ROLES)
def test_batch_actions_follow_the_matrix(employer, role, code):
    """录入 (line add / delete, import) needs prepare; 完成办理/提交审批 needs submit; viewing the 清册 needs view."""
    agent = _agent(employer, role, code)
    batch = Batch.objects.create(employer=employer, agent=agent, business_code=code, summary="测试")
    client = _client(agent)
    allowed = EXPECTED[role]
    checks = {
        "view": client.get(reverse("approvals:batch-detail", args=[batch.pk])),
        "prepare": client.post(reverse("approvals:batch-line-add", args=[batch.pk]), {}),
        "submit": client.post(reverse("approvals:batch-complete", args=[batch.pk])),
    }
    for action, response in checks.items():
        assert (response.status_code != 403) == (action in allowed), (role, code, action, response.status_code)
    if registry.get(code).importable:
        response = client.get(reverse("approvals:batch-import", args=[code]))
        assert (response.status_code != 403) == ("prepare" in allowed)
    if "submit" not in allowed:
        batch.refresh_from_db()
        assert batch.status == Batch.Status.DRAFT


@pytest.mark.parametrize("code", FORM_BUSINESSES)
def test_a_single_form_needs_submit_since_it_is_sent_as_filled(employer, code):
    client = _client(_agent(employer, "prepare", code))
    assert client.post(reverse("approvals:business", args=[code]), {}).status_code == 403
    client = _client(_agent(employer, "submit", code, login="ok"))
    assert client.post(reverse("approvals:business", args=[code]), {}).status_code == 200  # the form's errors, not 403


def test_maker_sees_the_reason_instead_of_the_complete_button(employer):
    agent = _agent(employer, "prepare", "member_register")
    batch = Batch.objects.create(employer=employer, agent=agent, business_code="member_register", summary="测试")
    page = _client(agent).get(reverse("approvals:batch-detail", args=[batch.pk])).text
    assert "您只能录入「缴存人登记」清册" in page and reverse("approvals:batch-complete", args=[batch.pk]) not in page


def test_two_person_rule_refuses_the_preparer_even_the_primary_and_lets_another_complete(employer):
    primary = _agent(employer, "primary", "member_seal", login="zhu")
    other = _agent(employer, "submit", "member_seal", login="fu")
    TwoPersonRule.objects.create(employer=employer, business_code="member_seal")
    batch = Batch.objects.create(employer=employer, agent=primary, business_code="member_seal", summary="测试")
    response = _client(primary).post(reverse("approvals:batch-complete", args=[batch.pk]))
    assert response.status_code == 403 and "须由两名经办人办理" in response.text
    response = _client(other).post(reverse("approvals:batch-complete", args=[batch.pk]))
    assert response.status_code == 302  # past the permission check (the empty 清册 is then refused by the service)


def test_application_actions_follow_the_matrix(employer):
    owner = _agent(employer, "primary", "member_register", login="zhu")
    batch = Batch.objects.create(employer=employer, agent=owner, business_code="member_register", summary="测试")
    application = Application.objects.create(employer=employer, submitter=owner, business_code="member_register", batch=batch,
                                             summary="测试")
    for role, expected in (("none", {}), ("prepare", {"view", "prepare"}), ("submit", {"view", "prepare", "submit"})):
        client = _client(_agent(employer, role, "member_register", login=f"a{role}"))
        checks = {
            "view": client.get(reverse("flow:application-detail", args=[application.pk])),
            "prepare": client.post(reverse("flow:archive-upload", args=[application.pk])),
            "submit": client.post(reverse("flow:application-submit", args=[application.pk])),
        }
        for action, response in checks.items():
            assert (response.status_code != 403) == (action in expected), (role, action, response.status_code)
        assert (client.post(reverse("flow:batch-application", args=[batch.pk])).status_code != 403) == ("prepare" in expected)


@pytest.mark.parametrize("page", registry.pages(), ids=lambda p: p.code)
@pytest.mark.parametrize("role", ROLES)
def test_registered_pages_and_their_urls_follow_the_matrix(employer, role, page):
    """汇缴 (核定 录入, 分配 提交), 单位信息查询, 缴存人信息查询: each URL its guard names, every role."""
    client = _client(_agent(employer, role, page.code))
    for url_name, action in ((page.url_name, "view"), *page.guards):
        try:
            url = reverse(url_name)
        except NoReverseMatch:  # a page of one object: an id of none (the permission is checked before the object)
            url = reverse(url_name, args=[999999])
        method = client.get if action == "view" else client.post
        response = method(url)
        assert (response.status_code != 403) == (action in EXPECTED[role]), (role, url_name, action, response.status_code)


def test_supplement_allocation_needs_the_supplement_submit_permission(employer):
    maker = _client(_agent(employer, "prepare", "supplementary"))
    assert maker.post(reverse("remittance:supplement-allocate", args=[999999])).status_code == 403
    assert maker.get(reverse("remittance:supplement-list")).status_code != 403


def test_home_shows_only_the_tiles_the_agent_may_open(employer):
    agent = _agent(employer, "prepare", "member_register", only=True)
    page = _client(agent).get(reverse("home")).text
    assert [tile.label for tile in registry.tiles(may=agent.may)] == ["缴存人登记"]
    assert page.count('class="module"') == 1
    assert f'class="module" href="{reverse("approvals:business", args=["member_register"])}">缴存人登记' in page
    primary = _agent(employer, "primary", "member_register", login="zhu")
    assert len(registry.tiles(may=primary.may)) == len(registry.tiles())


def test_tabs_show_only_the_businesses_of_the_module_the_agent_may_do(employer):
    agent = _agent(employer, "prepare", "member_seal")
    page = _client(agent).get(reverse("approvals:business", args=["member_seal"])).text
    assert reverse("approvals:business", args=["member_unseal"]) not in page


def test_a_maker_is_not_offered_submit_or_end_on_the_application_page(employer):
    maker = _agent(employer, "prepare", "member_register")
    checker = _agent(employer, "submit", "member_register", login="ok")
    batch = Batch.objects.create(employer=employer, agent=maker, business_code="member_register", summary="测试")
    application = Application.objects.create(employer=employer, submitter=maker, business_code="member_register", batch=batch,
                                             business_name="缴存人登记", summary="测试")
    url = reverse("flow:application-detail", args=[application.pk])
    page = _client(maker).get(url).text
    assert reverse("flow:application-submit", args=[application.pk]) not in page and "您的权限为仅录入" in page
    assert reverse("flow:application-submit", args=[application.pk]) in _client(checker).get(url).text
