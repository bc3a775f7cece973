"""approvals.table_cells: the rows of the flow's long lists, written in Python (issue 18), are what the templates' loops
wrote: the same cells, links and texts, every cell escaped (a name with <b>& shows as text)."""

import re
from datetime import UTC, datetime

import pytest
from django.template import engines

from approvals import table_cells
from approvals.models import Application, Message

NAUGHTY = "<b>张&三</b>"
AT = datetime(2026, 1, 31, 17, 5, tzinfo=UTC)  # 2026-02-01 01:05 in Asia/Shanghai

# The loops the rows replace, as approvals/task_list.html wrote them.
APPLICATION_LOOP = """{% for application in page %}
<tr>
  <td>{{ application.pk }}</td><td>{{ application.business_name }}</td><td>{{ application.summary }}</td>
  <td>{{ application|status_badge }}{% if application.todo %}<br><span class="todo">{{ application.todo }}</span>{% endif %}</td>
  <td>{{ application.submitted_at|date:"Y-m-d H:i"|default:"—" }}</td><td>{{ application.updated_at|date:"Y-m-d H:i" }}</td>
  <td>{% for label, url, document in application.follow_up_actions %}<a href="{{ url }}"{% if document %} target="_blank" rel="noopener"{% endif %}>【{{ label }}】</a> {% endfor %}<a href="{% url 'flow:application-detail' application.pk %}">查看流程图</a></td>
</tr>
{% endfor %}"""
MESSAGE_LOOP = """{% for message in page %}
<tr class="{% if not message.read_at %}unread{% endif %}">
  <td><a href="{% url 'flow:message-detail' message.pk %}">{{ message.business_name }}</a></td>
  <td>{{ message.content }}</td><td>{{ message.created_at|date:"Y-m-d H:i" }}</td><td>{{ message.get_channel_display }}</td>
  <td>{% if message.read_at %}已读{% else %}<strong>未读</strong>{% endif %}</td>
</tr>
{% endfor %}"""


def _template(loop: str, **context) -> str:
    return engines["django"].from_string(loop).render(context)


def _same(html: str) -> str:
    """The markup without the template's indentation (a run of white space is one space; none between tags)."""
    return re.sub(r">\s+<", "><", re.sub(r"\s+", " ", html)).strip()


@pytest.fixture
def follow_ups(monkeypatch):
    """A business that leaves the agent 【打印】 (a document, in a new tab) and 【分配】 after approval."""
    actions = [("打印", "/print/?a=1&b=<2>", True), ("<分配>", "/allocate/", False)]
    monkeypatch.setattr(Application, "follow_up_actions", property(lambda self: actions if self.todo else []))


def test_application_rows_are_what_the_task_list_wrote(follow_ups):
    applications = [
        Application(
            pk=7,
            business_name=NAUGHTY,
            summary="补缴 & <i>",
            status="approved",
            todo="打印补缴书<>",
            submitted_at=AT,
            updated_at=AT,
        ),
        Application(pk=8, business_name="基数调整", summary="", status="draft", todo="", submitted_at=None, updated_at=AT),
        Application(pk=9, business_name="封存", summary="s", status="under_review", todo="", submitted_at=AT, updated_at=AT),
    ]
    rows = table_cells.application_rows(applications)
    assert _same(rows) == _same(_template(APPLICATION_LOOP, page=applications))
    assert "&lt;b&gt;张&amp;三&lt;/b&gt;" in rows and "<b>" not in rows
    assert "2026-02-01 01:05" in rows and "<td>—</td>" in rows
    assert (
        '<a href="/print/?a=1&amp;b=&lt;2&gt;" target="_blank" rel="noopener">【打印】</a> <a href="/allocate/">【&lt;分配&gt;】</a> '
        in rows
    )


def test_message_rows_are_what_the_task_list_wrote():
    messages = [
        Message(pk=3, business_name=NAUGHTY, content="内容 <script>&", channel="sms", created_at=AT, read_at=None),
        Message(pk=4, business_name="汇缴核定", content="核定成功", channel="portal", created_at=AT, read_at=AT),
    ]
    rows = table_cells.message_rows(messages)
    assert _same(rows) == _same(_template(MESSAGE_LOOP, page=messages))
    assert '<tr class="unread"><td><a href="/messages/3/">&lt;b&gt;张&amp;三&lt;/b&gt;</a>' in rows
    assert "<td>短信</td>" in rows and "<script>" not in rows


def test_no_rows_leave_the_empty_message_to_the_template():
    assert table_cells.application_rows([]) == "" and table_cells.message_rows([]) == ""


# approvals/center_queue.html's and center_done.html's loops.
QUEUE_LOOP = """{% for application in page %}
<tr>
  <td>{{ application.pk }}</td><td>{{ application.business_name }}</td><td>{{ application.employer.account_no }}</td>
  <td>{{ application.employer.name }}</td><td>{{ application.summary }}</td><td>{{ application.step_name }}</td>
  <td>{{ application|status_badge }}</td>
  <td>{{ application.submitted_at|date:"Y-m-d H:i" }}</td>
  <td>{% if application.passed_by_me %}<a href="{% url 'flow:center-application' application.pk %}">查看</a> <span class="muted small">已由您办理上一环节</span>{% else %}<a href="{% url 'flow:center-application' application.pk %}">审批</a>{% endif %}</td>
</tr>
{% endfor %}"""
DONE_LOOP = """{% for application in page %}
<tr>
  <td>{{ application.pk }}</td><td>{{ application.business_name }}</td><td>{{ application.employer.name }}</td><td>{{ application.summary }}</td>
  <td>{{ application|status_badge }}</td>
  <td>{{ application.updated_at|date:"Y-m-d H:i" }}</td>
  <td><a href="{% url 'flow:center-application' application.pk %}">查看</a></td>
</tr>
{% endfor %}"""


def _reviewed() -> list[Application]:
    from employers.models import Employer

    employer = Employer(account_no="600001", name=NAUGHTY)
    first = Application(
        pk=21,
        business_name="缴存人调动",
        summary="<i>共1人</i>",
        status="submitted",
        step_names=["初审", "复核"],
        current_step=2,
        submitted_at=AT,
        updated_at=AT,
        employer=employer,
    )
    first.passed_by_me = True
    second = Application(
        pk=22,
        business_name=NAUGHTY,
        summary="",
        status="resubmitted",
        step_names=[],
        current_step=1,
        submitted_at=AT,
        updated_at=AT,
        employer=employer,
    )
    second.passed_by_me = False
    return [first, second]


def test_queue_and_done_rows_are_what_the_back_office_lists_wrote():
    applications = _reviewed()
    queue = table_cells.queue_rows(applications)
    assert _same(queue) == _same(_template(QUEUE_LOOP, page=applications))
    assert '<a href="/center/applications/21/">查看</a> <span class="muted small">已由您办理上一环节</span>' in queue
    assert '<a href="/center/applications/22/">审批</a>' in queue and "<td>复核</td>" in queue and "<td>第1步审批</td>" in queue
    done = table_cells.done_rows(applications)
    assert _same(done) == _same(_template(DONE_LOOP, page=applications))
    assert "<b>" not in queue + done and "&lt;b&gt;张&amp;三&lt;/b&gt;" in done


def test_the_queue_search_bar_is_the_one_djangos_widgets_wrote():
    """QueueFilterForm writes its widgets in Python (QuickSelect): the same elements as the template-rendered ones."""
    from django import forms
    from django.test.html import parse_html

    from approvals.flow_forms import QueueFilterForm

    class Templated(QueueFilterForm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            for name, field in self.fields.items():
                widget = {"business_code": forms.Select, "status": forms.Select, "employer": forms.TextInput}.get(name)
                field.widget = widget(attrs=field.widget.attrs) if widget else forms.DateInput(attrs={"type": "date"})
                if widget is forms.Select:
                    field.widget.choices = field.choices

    choices = [("base_adjust", "基数调整"), ("a&b", "<甲>")]
    for data in (
        None,
        {"business_code": "a&b", "employer": 'x"<y>&', "status": "submitted", "date_from": "2026-01-01", "date_to": "2025-01-01"},
        {"business_code": "nonsense", "date_from": "not a date"},
    ):
        quick, django = QueueFilterForm(data, business_choices=choices), Templated(data, business_choices=choices)
        assert quick.is_valid() == django.is_valid()
        for name in quick.fields:
            assert parse_html(str(quick[name])) == parse_html(str(django[name])), (name, str(quick[name]))


# approvals/batch_detail.html's and center_application.html's loops over a page of lines (approvals/_cell.html a cell).
BATCH_LOOP = """{% for row in rows %}
<tr>
  <td>{% if editable and business.itemised %}
    <form method="post" action="{% url 'approvals:batch-line-delete' batch.pk row.line.pk %}" hx-post="{% url 'approvals:batch-line-delete' batch.pk row.line.pk %}"
          hx-target="closest tr" hx-swap="delete" hx-confirm="确定取消该项修改吗？" class="inline">
      {% csrf_token %}<button type="submit" class="link danger" aria-label="取消第{{ row.line.row_no }}项修改" title="取消修改">×</button>
    </form>{% endif %}{{ row.line.row_no }}</td>
  {% for value, kind in row.cells %}{% include "approvals/_cell.html" %}{% endfor %}
  {% if editable and not business.itemised %}
  <td>
    <form method="post" action="{% url 'approvals:batch-line-delete' batch.pk row.line.pk %}" hx-post="{% url 'approvals:batch-line-delete' batch.pk row.line.pk %}"
          hx-target="closest tr" hx-swap="delete" hx-confirm="确定删除该职工的清册记录吗？" class="inline">
      {% csrf_token %}<button type="submit" class="link danger">删除</button>
    </form>
  </td>
  {% endif %}
</tr>
{% endfor %}"""
CENTER_LOOP = """{% for row in line_cells %}
<tr><td>{{ row.no }}</td>
  {% for value, kind in row.cells %}{% include "approvals/_cell.html" %}{% endfor %}
</tr>
{% endfor %}"""
COLUMNS = [
    ("name", "姓名", "text"),
    ("base", "缴存基数", "money"),
    ("rate", "单位比例", "rate"),
    ("period", "起缴年月", "period"),
    ("count", "人数", "text"),
    ("bad", "金额", "money"),
    ("none", "部门", "text"),
]


def _lines():
    from approvals.models import BatchLine

    return [
        BatchLine(
            pk=35,
            row_no=1,
            data={"name": NAUGHTY, "base": "6000.00", "rate": "0.12", "period": "2027-01-01", "count": 1234, "bad": "x<y"},
        ),
        BatchLine(pk=36, row_no=1000, data={"name": "王芳", "base": "1234567.5", "rate": "0.125", "period": "bad", "none": None}),
    ]


@pytest.mark.parametrize("itemised", [False, True])
def test_line_rows_are_what_the_batch_page_wrote(itemised):
    from types import SimpleNamespace

    from approvals.models import Batch
    from approvals.selectors import line_cells

    lines, batch = _lines(), Batch(pk=26)
    context = {
        "rows": line_cells(lines=lines, columns=COLUMNS),
        "editable": True,
        "batch": batch,
        "business": SimpleNamespace(itemised=itemised),
        "csrf_token": "tok<en>",
    }
    rows = table_cells.line_rows(lines, COLUMNS, batch=batch, itemised=itemised, csrf_token="tok<en>")
    assert _same(rows) == _same(_template(BATCH_LOOP, **context))
    assert "&lt;b&gt;张&amp;三&lt;/b&gt;" in rows and "<b>" not in rows and 'value="tok&lt;en&gt;"' in rows
    assert (
        '<td class="num">6,000.00</td><td class="num">12%</td><td>2027年01月</td><td>1234</td><td class="num"></td><td></td>'
        in rows
    )
    assert ('action="/batches/26/lines/36/delete/"' in rows) and (("取消第1000项修改" in rows) == itemised)


def test_line_rows_of_the_reviewers_page_and_of_a_closed_batch_have_no_forms():
    from approvals.selectors import line_cells

    lines = _lines()
    rows = table_cells.line_rows(lines, COLUMNS)
    assert _same(rows) == _same(_template(CENTER_LOOP, line_cells=line_cells(lines=lines, columns=COLUMNS)))
    assert "<form" not in rows and "<td>1000</td>" in rows
    assert table_cells.line_rows([], COLUMNS) == ""


# The loop of a home page task panel, as approvals/task_panels.html wrote it.
PANEL_LOOP = """{% for item in panel.items %}
  {% if panel.key == "messages" %}
  <li class="{% if not item.read_at %}unread{% endif %}">
    {% if not item.read_at %}<span class="dot" title="未读">未读</span>{% endif %}
    <a class="task-name" href="{% url 'flow:message-detail' item.pk %}" hx-get="{% url 'flow:message-detail' item.pk %}" hx-target="#task-detail" hx-swap="innerHTML">{{ item.business_name }}</a>
    <span class="task-text">{{ item.content|truncatechars:40 }}</span>
    <time datetime="{{ item.created_at|date:'c' }}">{{ item.created_at|date:"Y-m-d H:i" }}</time>
  </li>
  {% else %}
  <li>
    <a class="task-name" href="{% url 'flow:application-detail' item.pk %}">{{ item.business_name }}</a>
    <span class="task-text">{{ item.summary|truncatechars:30 }}</span>
    {% if item.todo %}<span class="todo-actions"><span class="todo">{{ item.todo }}</span>{% for label, url, document in item.follow_up_actions %}<a href="{{ url }}"{% if document %} target="_blank" rel="noopener"{% endif %}>【{{ label }}】</a>{% endfor %}</span>{% else %}{{ item|status_badge }}{% endif %}
    <time datetime="{{ item.updated_at|date:'c' }}">{{ item.updated_at|date:"Y-m-d H:i" }}</time>
  </li>
  {% endif %}
{% empty %}
  <li class="empty">{% if panel.key == "messages" %}暂无消息{% elif panel.key == "todo" %}暂无待办{% elif panel.key == "done" %}暂无已办业务{% else %}暂无发起的业务{% endif %}</li>
{% endfor %}"""


def test_panel_items_are_what_the_panel_loop_wrote(follow_ups):
    long = "一二三四五六七八九十" * 5 + "<b>&"
    messages = [
        Message(pk=3, business_name=NAUGHTY, content=long, channel="sms", created_at=AT, read_at=None),
        Message(pk=4, business_name="汇缴核定", content="核定成功 <i>", channel="portal", created_at=AT, read_at=AT),
    ]
    applications = [
        Application(pk=7, business_name=NAUGHTY, summary=long, status="approved", todo="打印补缴书<>", submitted_at=AT, updated_at=AT),
        Application(pk=9, business_name="封存", summary="s&", status="under_review", todo="", submitted_at=AT, updated_at=AT),
    ]
    for key, items in [("messages", messages), ("todo", applications), ("mine", applications), ("done", [])]:
        panel = {"key": key, "items": items}
        written = table_cells.panel_items(key, items)
        assert _same(written) == _same(_template(PANEL_LOOP, panel=panel)), key
    assert "&lt;b&gt;张&amp;三&lt;/b&gt;" in table_cells.panel_items("messages", messages)
    assert _same(table_cells.panel_items("done", [])) == '<li class="empty">暂无已办业务</li>'
