"""The rows of the approval flow's long lists (the task lists behind 【更多】, the back-office queue and done list),
written in Python from cells formatted once (issue 18; gjj_portal.table_rows) instead of a template loop with a
variable lookup, a filter and a {% url %} per cell. Each writes what its template's loop wrote: the same cells,
links, texts and escaping; the template keeps the table, its head and the empty-table message."""

from collections.abc import Iterable
from datetime import datetime
from html import escape

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from approvals.models import Application, Message
from gjj_portal.table_rows import cell, html_rows, link, url_for_rows

# {{ application|status_badge }} of each status, written once (gjj_portal.templatetags.gjj.status_badge)
_BADGES = {
    value: mark_safe(f'<span class="status status-{escape(value)}">{escape(str(label))}</span>')
    for value, label in Application.Status.choices
}
_CHANNELS = dict(Message.Channel.choices)


def minute(value: datetime | None) -> str:
    """A time as {{ value|date:"Y-m-d H:i" }} writes it: in the current time zone; empty for none."""
    if value is None:
        return ""
    return f"{timezone.localtime(value) if timezone.is_aware(value) else value:%Y-%m-%d %H:%M}"


def status_badge(status: str) -> SafeString:
    """An application's 状态 as its badge: <span class="status status-submitted">待审核</span>."""
    badge = _BADGES.get(status)
    return badge if badge is not None else mark_safe(f'<span class="status status-{escape(status)}">{escape(status)}</span>')


def application_rows(applications: Iterable[Application]) -> SafeString:
    """【更多】 of 待办 / 已办 / 我发起的: 编号, 业务名称, 摘要, 状态 (and the 待办事项), 提交时间, 更新时间, 操作 (the
    business's follow-up actions, 查看流程图)."""
    detail = url_for_rows("flow:application-detail")
    rows = []
    for application in applications:
        state = status_badge(application.status)
        if application.todo:
            state = mark_safe(f'{state}<br><span class="todo">{escape(application.todo)}</span>')
        actions = (
            "".join(
                f"{link(url, f'【{label}】', new_tab=bool(document))} " for label, url, document in application.follow_up_actions
            )
            if application.todo
            else ""
        )
        rows.append(
            (
                application.pk,
                application.business_name,
                application.summary,
                state,
                minute(application.submitted_at) or "—",
                minute(application.updated_at),
                mark_safe(actions + link(detail(application.pk), "查看流程图")),
            )
        )
    return html_rows(rows, ("",) * 7)


def message_rows(messages: Iterable[Message]) -> SafeString:
    """【更多】 of 消息: 业务名称 (the link that opens it), 消息内容, 时间, 推送渠道, 状态; an unread row is marked."""
    detail = url_for_rows("flow:message-detail")
    return mark_safe(
        "\n".join(
            f'<tr class="{"" if message.read_at else "unread"}"><td>{link(detail(message.pk), message.business_name)}</td>'
            f"<td>{cell(message.content)}</td><td>{minute(message.created_at)}</td>"
            f"<td>{cell(_CHANNELS.get(message.channel, message.channel))}</td>"
            f"<td>{'已读' if message.read_at else '<strong>未读</strong>'}</td></tr>"
            for message in messages
        )
    )


def queue_rows(applications: Iterable[Application]) -> SafeString:
    """待审批业务: 编号, 业务名称, 单位账号, 单位名称, 摘要, 当前环节, 状态, 提交时间, 操作 (审批; 查看 where this reviewer
    passed the step before, application_queue's passed_by_me)."""
    review = url_for_rows("flow:center-application")
    rows = []
    for application in applications:
        url = review(application.pk)
        if getattr(application, "passed_by_me", False):
            action = mark_safe(f'{link(url, "查看")} <span class="muted small">已由您办理上一环节</span>')
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
