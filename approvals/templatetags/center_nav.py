"""{% center_nav %}: the back-office menu (approvals/_center_nav.html) on every center page (issue 17). Its twelve links
are reversed once per process (and URL conf), not with twelve {% url %} on every page (issue 18); the current page's
link is marked for the eye and for screen readers (aria-current)."""

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()

# Every center function, in the menu's order: (URL name, label).
ENTRIES = (
    ("employers:center-home", "缴存单位"),
    ("flow:center-queue", "待审批业务"),
    ("flow:center-done", "我的已办"),
    ("remittance:payment-list", "缴款登记"),
    ("remittance:payment-import", "银行对账单导入"),
    ("remittance:debit-runs", "托收扣款"),
    ("remittance:debit-return", "回盘文件导入"),
    ("center:overdue", "催缴"),
    ("center:collection", "归集情况"),
    ("remittance:center-interest", "年度结息"),
    ("center:member-lookup", "缴存人查询"),
    ("employers:center-agents", "经办人审核"),
)
_WRITTEN: dict[tuple, SafeString] = {}


def center_menu(here: str) -> SafeString:
    """The menu with `here` (the current view's name) marked; written once per view name, script prefix and URL conf."""
    key = (here, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)
    menu = _WRITTEN.get(key)
    if menu is None:
        links = format_html_join(
            "\n",
            '  <a href="{}"{}>{}</a>',
            (
                (reverse(name), format_html(' aria-current="{}"', "page") if name == here else "", label)
                for name, label in ENTRIES
            ),
        )
        menu = _WRITTEN[key] = format_html('<nav class="center-nav" aria-label="中心业务后台">\n{}\n</nav>', links)
    return menu


@register.simple_tag(takes_context=True)
def center_nav(context) -> SafeString:
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    return center_menu(match.view_name if match is not None else "")
