"""gjj_portal.bulk: the helpers of the 50,000-row paths."""

import gc

import pytest
from django.utils import timezone

from gjj_portal.bulk import gc_paused, values_in
from members.models import Member
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def test_gc_is_paused_inside_and_back_after_even_on_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gc_paused():
        assert not gc.isenabled()
        raise RuntimeError
    assert gc.isenabled()


def test_gc_paused_leaves_a_disabled_collector_disabled():
    gc.disable()
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_values_in_sends_many_values_as_one_parameter(employer, django_assert_num_queries):
    members = [make_member(employer) for _ in range(3)]
    wanted = [members[0].account_no, members[2].account_no] + [f"x{i}" for i in range(30000)]
    with django_assert_num_queries(1) as captured:
        found = set(Member.objects.filter(account_no__in=values_in(Member, wanted)).values_list("pk", flat=True))
    assert found == {members[0].pk, members[2].pk}
    sql = captured.captured_queries[0]["sql"]
    assert "IN (SELECT jsonb_array_elements_text(" in sql or "IN (SELECT value FROM json_each(" in sql  # one list, not 30,002 placeholders


def test_values_in_casts_to_the_element_type(employer):
    members = [make_member(employer) for _ in range(3)]
    wanted = [members[1].pk, 10**12]
    assert list(Member.objects.filter(pk__in=values_in(Member, wanted, db_type="bigint")).values_list("pk", flat=True)) == [members[1].pk]


def test_insert_select_computes_some_columns_passes_values_and_defaults_the_rest(employer):
    from django.db import connection

    from gjj_portal.bulk import insert_select
    from members.models import MemberChange

    members = [make_member(employer) for _ in range(3)]
    table = connection.ops.quote_name(Member._meta.db_table)
    count = insert_select(MemberChange, f"FROM {table} m WHERE m.employer_id = %s", [employer.pk],
                          computed={"member": "m.id", "effective_period": "m.start_period", "new": ("m.name || %s", ["（核对）"])},
                          values={"employer": employer.pk, "kind": MemberChange.Kind.INFO, "field": "核对", "at": timezone.now()})
    assert count == 3
    rows = MemberChange.objects.filter(field="核对").order_by("member_id")
    assert [(r.member_id, r.new, r.old, r.effective_period, r.batch_id) for r in rows] == [
        (m.pk, f"{m.name}（核对）", "", m.start_period, None) for m in members]


def test_insert_select_returns_the_rows_asked_for(employer):
    from django.db import connection

    from gjj_portal.bulk import insert_select
    from members.models import MemberChange

    member = make_member(employer)
    table = connection.ops.quote_name(Member._meta.db_table)
    returned = insert_select(MemberChange, f"FROM {table} m WHERE m.id = %s", [member.pk], computed={"member": "m.id"},
                             values={"employer": employer.pk, "kind": MemberChange.Kind.INFO, "field": "核对", "at": timezone.now()},
                             returning=["member", "field"])
    assert returned == [(member.pk, "核对")]


def test_insert_select_refuses_a_name_the_model_does_not_have():
    from gjj_portal.bulk import insert_select
    from members.models import MemberChange

    with pytest.raises(ValueError, match="membr"):
        insert_select(MemberChange, "", computed={"membr": "1"})


def test_insert_rows_takes_tuples_in_the_order_of_fields(employer):
    from gjj_portal.bulk import insert_rows
    from members.models import MemberChange

    member = make_member(employer)
    rows = [(member.pk, employer.pk, MemberChange.Kind.INFO, f"项{i}", "", "新", "", timezone.now()) for i in range(3)]
    assert insert_rows(MemberChange, rows, fields=["member", "employer", "kind", "field", "old", "new", "reason", "at"]) == 3
    assert list(MemberChange.objects.filter(kind=MemberChange.Kind.INFO).order_by("field").values_list("field", "new")) == [
        ("项0", "新"), ("项1", "新"), ("项2", "新")]
