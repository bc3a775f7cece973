"""The registry of businesses (ARCHITECTURE.md「A business is one module」).

A business declares itself once, in one module of its own app, and registers in its
AppConfig.ready(); the home page, the 清册 pages, the flow, the imports and the documents read
the declaration and call it without knowing the app. A new business is its module, its detail
partial and its test file: everything else here is the engine's.

Row rules are pure: `clean_row(row, ctx)` takes the row as strings (from the entry form or
a file) and the context the business loaded once for the whole batch (`context()`), and
returns a RowResult. No database access happens per row.
"""

import builtins
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django import forms
from django.urls import reverse

# The modules of the employer home page, in the order of seed 001 §1.2.
MODULES = ("单位信息变更", "基数调整", "汇缴", "补缴", "缴存人信息变更", "单位信息查询", "缴存人登记", "缴存人信息查询",
           "缴存人状态变更", "缴存人单位调整")


@dataclass(frozen=True)
class Column:
    """One column of the import template and of the entry form (header is the Chinese label)."""

    header: str
    key: str
    kind: str = "text"  # text, money, rate, date, period, id, account
    required: bool = True
    example: str = ""
    note: str = ""


@dataclass
class RowResult:
    """The outcome of one row: cleaned data, errors [(key, message)], repairs and warnings (notices)."""

    cleaned: dict[str, Any] | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)
    # The row's identity inside a batch (e.g. the ID's blind index or the 个人账号): duplicates are refused.
    key: str = ""
    # Encrypted with the line, never stored in `cleaned` (SEC-37).
    secret: dict[str, str] = field(default_factory=dict)
    member_id: int | None = None
    amount: Decimal | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.cleaned is not None

    def error(self, key: str, message: str) -> None:
        self.errors.append((key, message))

    def notice(self, key: str, message: str) -> None:
        self.notices.append((key, message))


@dataclass(frozen=True)
class DisplayColumn:
    """A column of the 清册 table: header, key in the line's data, kind (text/money/rate/period)."""

    header: str
    key: str
    kind: str = "text"


@dataclass(frozen=True)
class Picker:
    """How the entry form chooses its member (seed 001: 通过个人账号下拉框选择职工, 反显): a search box with
    suggestions, served by the member app. The engine passes the members already in the 清册 to leave out.

    search(*, employer, query, exclude_ids, after, limit, agent) -> objects; get(*, employer, key, agent) -> object or None
    (the agent: 单位部门管理 limits what it may pick);
    key(obj) -> the value of the form's `field`; label(obj) -> a suggestion's text; echo(obj) -> [(label, value)]."""

    search: Callable[..., list]
    get: Callable[..., Any]
    key: Callable[[Any], str]
    label: Callable[[Any], str]
    echo: Callable[[Any], list[tuple[str, str]]]
    field: str = "account_no"
    placeholder: str = "输入姓名、个人账号或证件号码后四位"


@dataclass(frozen=True)
class Prompt:
    """What follows 【完成办理】/【提交审批】: the question (“完成办理,是否打印？”) and the document it prints.

    document(*, batch, actor) -> the URL of the printed PDF (issued through gjj_portal.printing)."""

    question: str
    document: Callable[..., str]
    label: str = "打印"


@dataclass
class BusinessType:
    code: str
    name: str
    form_class: type[forms.Form]
    columns: list[Column]
    display_columns: list[DisplayColumn]
    context: Callable[..., Any]  # context(*, employer, batch, rows: list[dict]) -> ctx, a few queries for all rows
    clean_row: Callable[[dict[str, str], Any], RowResult]
    apply: Callable[..., Any]  # apply(*, batch, actor) inside the caller's transaction; calls its app's services
    # Home tile: the module of seed 001 §1.2 it belongs to (several businesses of one module are tabs of one page,
    # 启封/封存) and its order there; tab_label names its tab.
    module: str = ""
    order: int = 0
    tab_label: str = ""
    # Labels: 【完成办理】 (or 【确定封存】…) when the center completes it directly, submit_label when the center's
    # setting sends it for approval (seed 001 ch.6 keeps 【完成办理】 for 补缴 even then).
    confirm_label: str = "【完成办理】"
    submit_label: str = "【提交审批】"
    needs_approval_default: bool = False  # without a center setting (审批设置)
    detail_template: str = ""  # the business's partial: help text and anything of its own above the entry form
    importable: bool = True
    row_limit: int = 5000  # SEC-28; a larger cap is a documented exception (README「安全」)
    template_notes: list[str] = field(default_factory=list)
    picker: Picker | None = None
    # The entry form's initial values for the chosen subject (a member from the picker, or the employer itself
    # for an employer-level business): prefill(*, employer, subject) -> dict. Greyed fields are the form's own.
    prefill: Callable[..., dict] | None = None
    employer_level: bool = False
    # One entry may stage several lines (信息变更: one per changed item): split_row(row, ctx) -> rows, each
    # checked by clean_row; no row means nothing was changed.
    split_row: Callable[[dict[str, str], Any], list[dict[str, str]]] | None = None
    # The 清册 counts its lines as the items of one change (信息变更: × at 序号 cancels one, 共N项变更) rather than
    # as people and money; by default so when split_row stages items. 补缴 splits a range into months yet counts money.
    itemised: bool | None = None
    # Entry-form fields that split_row consumes and no file has (补缴's 截止年月: one line per month of the range).
    form_only: tuple[str, ...] = ()
    max_lines: int | None = None  # 缴存人调动: 一次只可添加一个职工
    # "batch": a 清册 of lines, completed as a whole; "form": a single-form application (缓缴, 单位注销) whose one
    # checked row is the application's payload, applied by apply(batch=None, actor, application).
    shape: str = "batch"
    entry_label: str = "录入清册"  # the entry form's button (单位信息变更: 确定)
    list_title: str = "清册"  # the staged list's heading (待变更清册)
    # after 【录入清册】; default「<module>清册录入成功」; a callable gets the lines just added (补缴: 录入成功，补缴金额…)
    added_message: str | Callable[[list], str] = ""
    done_message: str = ""  # after completion; default「<name>办理完成」
    prompt: Prompt | None = None  # after completion
    submitted_prompt: Prompt | None = None  # after 【提交审批】 (“提交审批完成，是否打印凭条？”)
    documents: tuple[str, ...] = ()  # kinds registered with gjj_portal.printing that this business issues
    summary: Callable[..., str] | None = None  # summary(*, batch, count, amount) -> str; a single form's also gets payload=
    # encrypt_secret(secret, *, cipher) -> dict merged into the line's data: the business encrypts the row's secret
    # itself (gjj_portal.crypto.FieldCipher), in the form its apply needs (e.g. bound to the member row it will create).
    # Without it the engine encrypts the secret into the line's secret_enc.
    encrypt_secret: Callable[..., dict[str, str]] | None = None
    # archives_needed(*, batch) -> why this 清册's content needs 电子档案 before it goes to the center ('' when it
    # does not), beside the center's own 须上传电子档案 setting (补缴 above the month's largest amount). A single form
    # is asked with batch=None and payload=its checked row; when it says so, the form waits as a draft for its archives.
    archives_needed: Callable[..., str] | None = None
    # A business whose approval leaves the agent something to do (补缴: print the 补缴书, then allocate it):
    # follow_up(application) -> [(label, url, opens_a_document)], the buttons of its 待办 row while Application.todo
    # is set (a document opens in a new window);
    # approved_message is the 消息's sentence after 审批通过 (default: 业务已办结).
    follow_up: Callable[[Any], list[tuple[str, str, bool]]] | None = None
    approved_message: str = ""
    # Whole-file rules beside the per-row ones (年度基数调整: every normal member must be in the file):
    # check_file(rows, ctx) -> [message], over the file's [(row number, row)] with the context its rows were checked
    # with. The messages stand among the file's errors without a row number, so such a file is not staged at once.
    check_file: Callable[[list[tuple[int, dict]], Any], list[str]] | None = None
    # The 清册 as a whole before 【完成办理】/【提交审批】 (lines may have been deleted or added by hand since the
    # import): check_batch(*, batch) -> [message]; any message refuses the action and is shown to the agent.
    check_batch: Callable[..., list[str]] | None = None

    def __post_init__(self) -> None:
        if self.module and self.module not in MODULES:
            raise ValueError(f"business {self.code!r}: unknown home module {self.module!r}")
        if self.shape not in ("batch", "form"):
            raise ValueError(f"business {self.code!r}: shape is 'batch' or 'form', not {self.shape!r}")
        if self.shape == "form" and (self.importable or self.split_row is not None):
            raise ValueError(f"business {self.code!r}: a single-form application is neither imported nor split into lines")
        if self.itemised is None:
            self.itemised = self.split_row is not None

    @property
    def title(self) -> str:
        """The page's title and breadcrumb: the module (缴存人状态变更) when tabs share it, else the name."""
        return self.module if self.module and len(in_module(self.module)) > 1 else self.name

    @property
    def entry_url(self) -> str:
        return reverse("approvals:business", args=[self.code])

    @property
    def headers(self) -> list[str]:
        return [c.header for c in self.columns]

    def action_label(self, *, approval: bool) -> str:
        return (self.submit_label if approval else self.confirm_label).strip("【】")

    def confirm_question(self, *, approval: bool) -> str:
        """The confirmation before the action: 确定封存吗？, 确定完成办理吗？"""
        label = self.action_label(approval=approval)
        return f"{label}吗？" if label.startswith("确定") else f"确定{label}吗？"

    def line_added(self, lines: list | None = None) -> str:
        if callable(self.added_message):
            return self.added_message(lines or [])
        return self.added_message or f"{self.module or self.name}清册录入成功"

    def done(self, *, approval: bool) -> str:
        if approval:
            return f"{self.name}已提交审批，请在「我发起的」中查看审批进度。"
        return self.done_message or f"{self.name}办理完成。"

    def describe(self, *, batch, count: int, amount: Decimal, payload: dict | None = None) -> str:
        if self.summary is not None:
            return self.summary(batch=batch, count=count, amount=amount, **({"payload": payload} if payload is not None else {}))
        return f"{self.name}，共{count}人"


@dataclass(frozen=True)
class Page:
    """A home tile that opens a page of its own rather than a 清册 (汇缴, the queries).

    Its URL name is its key in the agents' permissions (经办人管理); `guards` names the other URLs of the page that
    the permission covers, with the action each needs: "view", "prepare" (录入) or "submit" (提交/完成, moving money)."""

    module: str
    url_name: str
    guards: tuple[tuple[str, str], ...] = ()

    @property
    def code(self) -> str:
        return self.url_name


ACTIONS = ("view", "prepare", "submit")
_REGISTRY: dict[str, BusinessType] = {}
_PAGES: dict[str, Page] = {}
# URL name -> (permission key, action): the pages' URLs and a business's own pages outside the 清册 engine
# (补缴分配), checked for every agent request by the employers app's permission middleware.
_GUARDS: dict[str, tuple[str, str]] = {}


def register(business: BusinessType) -> BusinessType:
    if business.code in _REGISTRY and _REGISTRY[business.code] is not business:
        raise ValueError(f"business type {business.code!r} is already registered")
    _REGISTRY[business.code] = business
    return business


def register_page(page: Page) -> Page:
    if page.module not in MODULES:
        raise ValueError(f"unknown home module {page.module!r}")
    _PAGES[page.module] = page
    guard(page.url_name, key=page.code, action="view")
    for url_name, action in page.guards:
        guard(url_name, key=page.code, action=action)
    return page


def pages() -> builtins.list[Page]:
    """The registered pages, in the home page's order."""
    return [_PAGES[m] for m in MODULES if m in _PAGES]


def guard(url_name: str, *, key: str, action: str) -> None:
    """The agent's permission for `key` and `action` is needed to open `url_name`."""
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    _GUARDS[url_name] = (key, action)


def guarded(url_name: str) -> tuple[str, str] | None:
    """(key, action) that opening this URL needs, or None when no business permission covers it."""
    return _GUARDS.get(url_name)


def unregister(code: str) -> None:
    """Remove a business type (for tests that register one of their own)."""
    _REGISTRY.pop(code, None)


def get(code: str) -> BusinessType:
    """The business type with this code; KeyError when unknown."""
    try:
        return _REGISTRY[code]
    except KeyError:
        raise KeyError(f"unknown business type {code!r}") from None


def all() -> builtins.list[BusinessType]:  # noqa: A001 - the registry's public API, as the issue names it
    return builtins.list(_REGISTRY.values())


def in_module(module: str) -> builtins.list[BusinessType]:
    """The businesses of one home module, in their order (the tabs of its page)."""
    return sorted((b for b in _REGISTRY.values() if b.module == module), key=lambda b: (b.order, b.code))


# 单位部门管理 (issue 17): which members an agent may act on is the members app's rule. It registers
# row_scope(*, agent) -> None (the agent acts on every member of its employer: nothing to check) or
# check(items) -> {index: (column key, message)} over the checked rows' [(member_id, cleaned)]; the engine adds those
# refusals to the rows the agent enters or imports.
_ROW_SCOPE: builtins.list[Callable[..., Any]] = []


def row_scope_register(row_scope: Callable[..., Any]) -> None:
    _ROW_SCOPE[:] = [row_scope]


def row_scope_check(*, agent) -> Callable[[builtins.list[tuple[int | None, dict | None]]], dict[int, tuple[str, str]]] | None:
    """The check of the rows this agent may not stage, or None when it may stage any (the common case, no query)."""
    if agent is None or not _ROW_SCOPE:
        return None
    return _ROW_SCOPE[0](agent=agent)


@dataclass(frozen=True)
class Tile:
    label: str
    url: str | None  # None: the module is not open yet


def tiles(may: Callable[[str], bool] | None = None) -> builtins.list[Tile]:
    """The home page's modules in the manual's order, each opening its page or its first business.

    `may(key)`: whether the agent may see that business or page (经办人管理); a module none of whose businesses it
    may do is left out, and a module opens the first business it may do."""
    result = []
    for module in MODULES:
        page = _PAGES.get(module)
        businesses = in_module(module)
        if may is not None and (page or businesses):
            if page is not None and not may(page.code):
                continue
            businesses = [b for b in businesses if may(b.code)]
            if page is None and not businesses:
                continue
        url = reverse(page.url_name) if page else (businesses[0].entry_url if businesses else None)
        result.append(Tile(label=module, url=url))
    return result
