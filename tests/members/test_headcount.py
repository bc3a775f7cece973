"""缴存人数合计 (issue 18): the headcount by employer, department and 账户状态 is written by the database with every
write of a member, whatever path writes it, and the home page and 缴存人账户信息 read it instead of counting."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse

from employers import services as employer_services
from members.headcount import headcount_problems, headcount_rebuild, triggers_present
from members.models import Headcount, Member
from members.selectors import member_counts
from remittance.journal import reconcile
from tests import factories

pytestmark = pytest.mark.django_db


def kept(employer) -> dict:
    return {(h.department_key, h.status): (h.members, h.monthly_amount) for h in Headcount.objects.filter(employer=employer).exclude(members=0)}


def test_the_database_has_the_three_triggers():
    assert triggers_present() == {"members_headcount_insert", "members_headcount_update", "members_headcount_delete"}


def test_every_write_of_a_member_moves_the_headcount(employer, other_employer):
    sales = employer_services.department_create(employer=employer, actor=None, code="01", name="销售部", manager="")
    a = factories.make_member(employer, base=Decimal("5000.00"))
    b = factories.make_member(employer, base=Decimal("6000.00"))
    amount_a, amount_b = a.monthly_amount, b.monthly_amount
    assert kept(employer) == {(0, "normal"): (2, amount_a + amount_b)}

    Member.objects.filter(pk=b.pk).update(status=Member.Status.SEALED)  # 封存, by a bulk update
    assert kept(employer) == {(0, "normal"): (1, amount_a), (0, "sealed"): (1, amount_b)}

    a.department = sales
    a.save(update_fields=["department"])  # 部门
    assert kept(employer) == {(sales.pk, "normal"): (1, amount_a), (0, "sealed"): (1, amount_b)}

    Member.objects.filter(pk=a.pk).update(monthly_amount=Decimal("1234.56"))  # 基数调整
    assert kept(employer)[(sales.pk, "normal")] == (1, Decimal("1234.56"))

    Member.objects.filter(pk=b.pk).update(employer=other_employer)  # 调动 to another employer
    assert kept(employer) == {(sales.pk, "normal"): (1, Decimal("1234.56"))}
    assert kept(other_employer) == {(0, "sealed"): (1, amount_b)}

    Member.objects.filter(employer=employer).update(paid_up_to="2026-11-01")  # 缴至年月: nothing counted changes
    assert kept(employer) == {(sales.pk, "normal"): (1, Decimal("1234.56"))}
    assert headcount_problems() == []


def test_a_bulk_insert_is_counted(employer):
    factories.make_members_bulk(employer, 30, history=False)
    assert member_counts(employer=employer) == {"total": 30, "normal": 30, "sealed": 0}
    assert headcount_problems() == []


def test_a_deleted_member_is_taken_away(employer):
    member = factories.make_member(employer)
    factories.make_member(employer)
    with connection.cursor() as cursor:  # members are never deleted by the portal; the database still counts it
        cursor.execute("DELETE FROM members_member WHERE id = %s", [member.pk])
    assert member_counts(employer=employer)["total"] == 1
    assert headcount_problems() == []


def test_the_home_page_reads_the_kept_headcount_not_the_members(agent_client, employer):
    for _ in range(3):
        factories.make_member(employer)
    # A row changed behind the triggers' back shows on the page: it is read, not counted again on each view.
    Headcount.objects.filter(employer=employer, status="normal").update(members=41)
    page = agent_client.get(reverse("home")).content.decode()
    assert "41 人（封存 0 人）" in page


def test_account_query_totals_come_from_the_headcount_unless_filtered_by_date_or_member(agent_client, employer):
    members = [factories.make_member(employer) for _ in range(3)]
    Headcount.objects.filter(employer=employer, status="normal").update(members=77)
    assert "合计：77 人" in agent_client.get(reverse("members:query")).content.decode()
    assert "合计：77 人" in agent_client.get(reverse("members:query"), {"status": "normal"}).content.decode()
    assert "合计：" not in agent_client.get(reverse("members:query"), {"status": "sealed"}).content.decode()
    # a search for one member counts the rows it selects
    assert "合计：1 人" in agent_client.get(reverse("members:query"), {"query": members[0].account_no}).content.decode()


def test_reconcile_and_the_command_find_a_headcount_that_differs_and_the_command_counts_again(employer):
    factories.make_member(employer)
    Headcount.objects.filter(employer=employer).update(members=5)
    assert any("人数合计表 5 人" in problem for problem in reconcile())
    with pytest.raises(CommandError, match="缴存人数合计与缴存人不一致"):
        call_command("headcount_rebuild", "--check")
    call_command("headcount_rebuild")
    assert reconcile() == [] and member_counts(employer=employer)["normal"] == 1


def test_rebuild_counts_every_employer(employer, other_employer):
    factories.make_member(employer)
    factories.make_member(other_employer, status=Member.Status.SEALED)
    Headcount.objects.all().delete()
    assert headcount_rebuild() == 2
    assert member_counts(employer=other_employer) == {"total": 1, "normal": 0, "sealed": 1}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statement-level triggers")
def test_a_statement_that_changes_nothing_counted_writes_no_headcount_row(employer):
    factories.make_members_bulk(employer, 20, history=False)
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM members_headcount WHERE employer_id = %s", [employer.pk])
        before = cursor.fetchall()
        Member.objects.filter(employer=employer).update(paid_up_to="2026-11-01")
        cursor.execute("SELECT xmin::text FROM members_headcount WHERE employer_id = %s", [employer.pk])
        assert cursor.fetchall() == before  # not rewritten, so not locked by a 缴至年月 update
