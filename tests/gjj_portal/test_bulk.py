"""gjj_portal.bulk: the helpers of the 50,000-row paths."""

import gc

import pytest

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
