"""缴存人信息查询's rows written in Python (members.selectors *_cells, issue 18): every cell escaped as the template
escaped it, a 待生效 base below the base, the 补缴记录 link; the filter's widgets the same elements as Django's."""

from datetime import date
from decimal import Decimal

from django import forms
from django.test.html import parse_html
from django.urls import reverse

from gjj_portal.forms import QuickDateInput
from members.forms import AccountQueryForm, StatusChangeQueryForm
from members.models import ScheduledBaseChange
from tests.factories import make_member


def _pending(member, *, period: date, base: str) -> ScheduledBaseChange:
    return ScheduledBaseChange.objects.create(
        member=member,
        employer=member.employer,
        base=Decimal(base),
        employer_rate=member.employer_rate,
        member_rate=member.member_rate,
        employer_amount=Decimal("1.00"),
        member_amount=Decimal("1.00"),
        monthly_amount=Decimal("2.00"),
        effective_period=period,
    )


def test_account_rows_escape_the_name_and_show_each_pending_base_below_the_base(agent_client, agent):
    member = make_member(agent.employer, name="<b>张&三</b>", base=Decimal("6000.00"))
    _pending(member, period=date(2025, 9, 1), base="8000.00")
    _pending(member, period=date(2025, 10, 1), base="9000.00")
    body = agent_client.get(reverse("members:query")).content.decode()
    assert "&lt;b&gt;张&amp;三&lt;/b&gt;" in body and "<b>张" not in body
    assert (
        '<td class="num">6,000.00<br><span class="small muted">2025年09月起 8,000.00（待生效）</span>'
        '<br><span class="small muted">2025年10月起 9,000.00（待生效）</span></td>'
    ) in body
    assert f'<td><a href="/remittance/members/{member.account_no}/supplements/">补缴记录</a></td>' in body


def test_account_rows_without_members_say_so(agent_client):
    body = agent_client.get(reverse("members:query")).content.decode()
    assert '<td colspan="12" class="empty">没有符合条件的缴存人</td>' in body


def test_change_rows_escape_the_name_and_list_the_pending_base_above(agent_client, agent):
    member = make_member(agent.employer, name="<i>李&四</i>")
    _pending(member, period=date(2025, 9, 1), base="8000.00")
    body = agent_client.get(reverse("members:change-query")).content.decode()
    assert "<td>缴存基数</td>" in body and '<td class="num">8,000.00</td>' in body and "<td>2025年09月</td>" in body
    assert "&lt;i&gt;李&amp;四&lt;/i&gt;" in body and "<i>李" not in body
    status = agent_client.get(reverse("members:status-query")).content.decode()  # its 开户 record
    assert "&lt;i&gt;李&amp;四&lt;/i&gt;" in status and "<td>开户</td>" in status
    assert "没有符合条件的变更记录" not in status


def test_query_filters_render_as_djangos_widgets_would():
    class Department:
        def __init__(self, pk, code, name):
            self.pk, self.code, self.name = pk, code, name

    departments = [Department(1, "01", "<b>财务&部</b>")]
    for form_class, data in (
        (AccountQueryForm, {"date_from": "2025-01-02", "query": '"<x>', "status": "sealed", "department": "none"}),
        (AccountQueryForm, {"date_from": "not a date", "department": "nonsense"}),
        (StatusChangeQueryForm, {"date_to": "2025-03-04", "change_type": "封存", "department": "1"}),
        (AccountQueryForm, None),
    ):
        quick = form_class(data, departments=departments)
        django = form_class(data, departments=departments)
        for field in django.fields.values():  # the same fields through Django's own template-rendered widgets
            widget = field.widget
            if isinstance(widget, QuickDateInput):
                field.widget = forms.DateInput(attrs={**widget.attrs, "type": widget.input_type})
            else:
                field.widget = (forms.Select if isinstance(widget, forms.Select) else forms.TextInput)(attrs=widget.attrs)
                if isinstance(widget, forms.Select):
                    field.widget.choices = widget.choices
        quick.is_valid(), django.is_valid()
        for name in django.fields:
            assert parse_html(str(quick[name])) == parse_html(str(django[name])), (form_class.__name__, name)
