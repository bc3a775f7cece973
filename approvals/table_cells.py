"""The rows of the approval flow's long lists (the task lists behind 【更多】, the back-office queue and done list) and
of a 清册's lines (its own page, the reviewer's), written in Python from cells formatted once (issue 18;
gjj_portal.table_rows) instead of a template loop with a variable lookup, a filter and a {% url %} per cell.

Each writes what its template's loop wrote: the same cells, links, texts and escaping; the template keeps the table,
its head and the empty-table message. Markup comes only from html_rows, link, format_html and format_html_join, which
escape every value (SEC-25: no mark_safe here)."""

from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator

from approvals.models import Application, Message
from approvals.selectors import typed_cell
from gjj_portal.table_rows import html_rows, link, url_for_rows
from gjj_portal.templatetags.gjj import percent, period, yuan

_BADGE = '<span class="status status-{}">{}</span>'
# {{ application|status_badge }} of each status, written once (gjj_portal.templatetags.gjj.status_badge)
_BADGES = {value: format_html(_BADGE, value, label) for value, label in Application.Status.choices}
_CHANNELS = dict(Message.Channel.choices)
_READ, _UNREAD = format_html("{}", "已读"), format_html("<strong>{}</strong>", "未读")


def minute(value: datetime | None) -> str:
    """A time as {{ value|date:"Y-m-d H:i" }} writes it: in the current time zone; empty for none."""
    if value is None:
        return ""
    return f"{timezone.localtime(value) if timezone.is_aware(value) else value:%Y-%m-%d %H:%M}"


def status_badge(status: str) -> SafeString:
    """An application's 状态 as its badge: <span class="status status-submitted">待审核</span>."""
    badge = _BADGES.get(status)
    return badge if badge is not None else format_html(_BADGE, status, status)


def application_rows(applications: Iterable[Application]) -> SafeString:
    """【更多】 of 待办 / 已办 / 我发起的: 编号, 业务名称, 摘要, 状态 (and the 待办事项), 提交时间, 更新时间, 操作 (the
    business's follow-up actions, 查看流程图)."""
    detail = url_for_rows("flow:application-detail")
    rows = []
    for application in applications:
        state, actions = status_badge(application.status), link(detail(application.pk), "查看流程图")
        if application.todo:
            state = format_html('{}<br><span class="todo">{}</span>', state, application.todo)
            follow_ups = [
                (link(url, f"【{label}】", new_tab=bool(document)),) for label, url, document in application.follow_up_actions
            ]
            actions = format_html("{}{}", format_html_join("", "{} ", follow_ups), actions)
        rows.append(
            (
                application.pk,
                application.business_name,
                application.summary,
                state,
                minute(application.submitted_at) or "—",
                minute(application.updated_at),
                actions,
            )
        )
    return html_rows(rows, ("",) * 7)


def message_rows(messages: Iterable[Message]) -> SafeString:
    """【更多】 of 消息: 业务名称 (the link that opens it), 消息内容, 时间, 推送渠道, 状态; an unread row is marked."""
    detail = url_for_rows("flow:message-detail")
    return format_html_join(
        "\n",
        '<tr class="{}"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                "" if message.read_at else "unread",
                link(detail(message.pk), message.business_name),
                message.content,
                minute(message.created_at),
                _CHANNELS.get(message.channel, message.channel),
                _READ if message.read_at else _UNREAD,
            )
            for message in messages
        ),
    )


def queue_rows(applications: Iterable[Application]) -> SafeString:
    """待审批业务: 编号, 业务名称, 单位账号, 单位名称, 摘要, 当前环节, 状态, 提交时间, 操作 (审批; 查看 where this reviewer
    passed the step before, application_queue's passed_by_me)."""
    review = url_for_rows("flow:center-application")
    rows = []
    for application in applications:
        url = review(application.pk)
        if getattr(application, "passed_by_me", False):
            action = format_html('{} <span class="muted small">已由您办理上一环节</span>', link(url, "查看"))
        else:
            action = link(url, "审批")
        employer = application.employer
        rows.append(
            (
                application.pk,
                application.business_name,
                employer.account_no,
                employer.name,
                application.summary,
                application.step_name,
                status_badge(application.status),
                minute(application.submitted_at),
                action,
            )
        )
    return html_rows(rows, ("",) * 9)


def done_rows(applications: Iterable[Application]) -> SafeString:
    """我的已办: 编号, 业务名称, 单位名称, 摘要, 状态, 更新时间, 查看."""
    review = url_for_rows("flow:center-application")
    return html_rows(
        (
            (
                application.pk,
                application.business_name,
                application.employer.name,
                application.summary,
                status_badge(application.status),
                minute(application.updated_at),
                link(review(application.pk), "查看"),
            )
            for application in applications
        ),
        ("",) * 7,
    )


def line_cell(value, kind: str) -> str:
    """One cell's text of a 清册 line as approvals/_cell.html writes it: money and rates (yuan, percent; their
    column is classed "num"), a month as 2026年01月, anything else as the template shows a value (localized)."""
    value = typed_cell(value, kind)
    if kind == "money":
        return yuan(value)
    if kind == "rate":
        return percent(value)
    if kind == "period":
        return period(value)
    return value if isinstance(value, str) else localize(value)


_DELETE = (
    '<form method="post" action="{}" hx-post="{}" hx-target="closest tr" hx-swap="delete" hx-confirm="{}" class="inline">'
    '<input type="hidden" name="csrfmiddlewaretoken" value="{}">{}</form>'
)
_REMOVE = format_html('<button type="submit" class="link danger">{}</button>', "删除")
_CANCEL = '<button type="submit" class="link danger" aria-label="取消第{}项修改" title="取消修改">×</button>'


def line_rows(
    lines, columns: list[tuple[str, str, str]], *, batch=None, itemised: bool = False, csrf_token: str = ""
) -> SafeString:
    """A page of 清册 lines: 序号, then the columns' cells. With `batch` (an editable 清册 on its own page) each line
    has its 删除 form in a last cell, or for an itemised business (one line per changed item) a × before its 序号."""
    classes = ["", *("num" if kind in ("money", "rate") else "" for _, _, kind in columns)]
    if batch is not None:
        delete = url_for_rows("approvals:batch-line-delete", batch.pk)
        if not itemised:
            classes.append("")
    rows = []
    for line in lines:
        number, data = line.row_no, line.data
        row = [number, *(line_cell(data.get(key), kind) for key, _, kind in columns)]
        if batch is not None:
            url = delete(line.pk)
            if itemised:
                cancel = format_html(_CANCEL, number)
                row[0] = format_html("{}{}", format_html(_DELETE, url, url, "确定取消该项修改吗？", csrf_token, cancel), number)
            else:
                row.append(format_html(_DELETE, url, url, "确定删除该职工的清册记录吗？", csrf_token, _REMOVE))
        rows.append(row)
    return html_rows(rows, classes)


_PANEL_EMPTY = {"messages": "暂无消息", "todo": "暂无待办", "done": "暂无已办业务", "mine": "暂无发起的业务"}
_UNREAD_DOT = format_html('<span class="dot" title="{}">{}</span>', "未读", "未读")


def _iso(value: datetime) -> str:
    """A time as {{ value|date:"c" }} writes it (ISO 8601 in the current time zone)."""
    return (timezone.localtime(value) if timezone.is_aware(value) else value).isoformat()


def panel_items(key: str, items: Iterable) -> SafeString:
    """The <li>s of a home page task panel (approvals/task_panels.html): a message opens in #task-detail, an application
    links to its page with its 待办 and follow-up actions or its status; the panel's empty line when it has none."""
    written = []
    if key == "messages":
        detail = url_for_rows("flow:message-detail")
        for message in items:
            url = detail(message.pk)
            written.append(format_html(
                '<li class="{}">{}<a class="task-name" href="{}" hx-get="{}" hx-target="#task-detail" hx-swap="innerHTML">{}</a>'
                '<span class="task-text">{}</span><time datetime="{}">{}</time></li>',
                "" if message.read_at else "unread", "" if message.read_at else _UNREAD_DOT, url, url, message.business_name,
                Truncator(message.content).chars(40), _iso(message.created_at), minute(message.created_at),
            ))
    else:
        detail = url_for_rows("flow:application-detail")
        for application in items:
            if application.todo:
                actions = format_html_join("", "{}", ((link(url, f"【{label}】", new_tab=bool(document)),)
                                                      for label, url, document in application.follow_up_actions))
                state = format_html('<span class="todo-actions"><span class="todo">{}</span>{}</span>', application.todo, actions)
            else:
                state = status_badge(application.status)
            written.append(format_html(
                '<li><a class="task-name" href="{}">{}</a><span class="task-text">{}</span>{}<time datetime="{}">{}</time></li>',
                detail(application.pk), application.business_name, Truncator(application.summary).chars(30), state,
                _iso(application.updated_at), minute(application.updated_at),
            ))
    if not written:
        return format_html('<li class="empty">{}</li>', _PANEL_EMPTY[key])
    return format_html_join("\n", "{}", ((item,) for item in written))
