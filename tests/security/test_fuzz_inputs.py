"""Fuzz every input (issue 15 item 7): every form field the portal shows and every column of every import template.

The forms are found, not listed: every page of the URL walk (tests/security/urlwalk.py) and every business of the
registry is opened as the user who works there (an agent; a reviewer under /center/), and each <form> on it is read
for its fields and their current values. Then one field at a time gets hostile values from Hypothesis
(fuzz_strategies.py) while the others keep plausible values; each importable business gets its template with one
hostile cell at a time. For every request:

* never a server error (500);
* a refused request (an error shown, or a 4xx) wrote nothing: no row count of the project's tables changed;
* a refusal says it in Chinese, and names the field: the error is the field's own (.field.has-error around it) or
  its message holds the field's label (an import's: the column header).

Every example runs in a savepoint that is rolled back, with the client's cookies and the cache restored, so each
starts from the same state. The number of examples per field comes from the Hypothesis profile (ci by default,
HYPOTHESIS_PROFILE=nightly for many more); the terminal report says how many fields and examples were tried.
"""

import copy
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import quote, urljoin, urlsplit

import lxml.html
import pytest
from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from openpyxl import Workbook

from approvals import registry
from approvals.models import Application, BatchImport, FlowSetting
from approvals.services import batch_complete
from members.models import Member
from tests import factories
from tests.members.factories import cjk_name, make_batch
from tests.remittance.conftest import assess, make_members, pay
from tests.security import fuzz_strategies as hostile
from tests.security.urlwalk import endpoints

pytestmark = pytest.mark.django_db

CJK = re.compile(r"[\u3400-\u9fff]")
# Pages not fuzzed here: signing in, enrolment and reset are throttled and tested by test_two_factor/test_password_reset;
# the admin has its own walk (tests/test_admin_walk.py).
SKIPPED_VIEWS = {"employers:login", "employers:center-login", "employers:enrol", "employers:sms-send",
                 "employers:password-reset", "employers:logout"}
SKIPPED_ACTIONS = {"/logout/"}
# Tables a refused request may still write: the session (last seen), the audit trail, the task queue.
UNCOUNTED = {"sessions.session", "gjj_portal.auditevent", "gjj_portal.audithead"}
# An import's own record is the import's result, kept for its preview page whether the file is good or not.
IMPORT_UNCOUNTED = UNCOUNTED | {"approvals.batchimport"}
MAX_SHOWN = 40


# ------------------------------------------------------------------ the report


@dataclass
class Tally:
    fields: int = 0
    examples: int = 0
    server_errors: int = 0
    forms: int = 0
    problems: list[str] = field(default_factory=list)

    def problem(self, where: str, value, text: str) -> None:
        self.problems.append(f"{where} = {value!r:.120}: {text}")


class _Reporter:
    def __init__(self) -> None:
        self.tallies: dict[str, Tally] = {}

    def pytest_terminal_summary(self, terminalreporter):
        if not self.tallies:
            return
        total = Tally()
        for tally in self.tallies.values():
            total.fields += tally.fields
            total.examples += tally.examples
            total.server_errors += tally.server_errors
        parts = ", ".join(f"{name} {t.fields} fields/{t.examples} examples" for name, t in self.tallies.items())
        terminalreporter.write_line(
            f"fuzz ({hostile.PROFILE}): {total.fields} fields, {total.examples} examples, {total.server_errors} server errors"
            f" [{parts}]")


@pytest.fixture(scope="session")
def fuzz_report(pytestconfig):
    reporter = pytestconfig.pluginmanager.get_plugin("gjj-fuzz-report")
    if reporter is None:
        reporter = _Reporter()
        pytestconfig.pluginmanager.register(reporter, "gjj-fuzz-report")
    return reporter


# ------------------------------------------------------------------ the world the pages are opened in


@dataclass
class World:
    employer: object
    agent: object
    reviewer: object
    member: object
    subjects: list  # the members a business's picker or import row may name: a normal one and a sealed one
    agent_client: Client
    reviewer_client: Client
    samples: dict[str, list]  # view name -> args of a real object, for the walk's paths with parameters


@pytest.fixture
def world(employer, agent, reviewer):
    members = make_members(employer)
    assessment = assess(employer, agent)
    pay(employer, "3040.00")  # what the assessment asks: 【完成办理】 of the allocation can go through
    sealed = factories.make_member(employer, status=Member.Status.SEALED)
    # A 清册 of another employer sent for approval, so that the center's decision form is on its page (the fuzzed
    # employer's own business pages stay open for entry).
    FlowSetting.objects.create(business_code="member_seal", needs_approval=True)
    other_employer = factories.make_employer(name="另一家建设有限公司")
    other_agent = factories.make_agent(other_employer, login_name="jbr02")
    other = factories.make_member(other_employer)
    submitted = batch_complete(batch=make_batch(other_agent, "member_seal", rows=[
        {"account_no": other.account_no, "name": other.name, "reason": "离退休"}]), agent=other_agent)
    application = Application.objects.get(batch=submitted)
    clients = []
    for user in (agent, reviewer):
        client = Client(raise_request_exception=False)
        factories.login_as(client, user)
        clients.append(client)
    samples = {
        "flow:application-detail": [application.pk], "flow:center-application": [application.pk],
        "remittance:allocate": [assessment.pk], "remittance:assessment-detail": [assessment.pk],
    }
    return World(employer, agent, reviewer, members[0], [members[0], sealed], clients[0], clients[1], samples)


def _client(world: World, path: str) -> Client:
    return world.reviewer_client if path.startswith("/center/") else world.agent_client


def _row_counts(skip: set[str]) -> dict[str, int]:
    """Rows of every table of the project but `skip`, in one query (one round trip per example, not one per table)."""
    models = [m for m in apps.get_models() if m._meta.label_lower not in skip and not m._meta.proxy and m._meta.managed]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)})" for m in models))
        return dict(zip((m._meta.label_lower for m in models), cursor.fetchone(), strict=True))


class _Example:
    """One example's sandbox: a savepoint rolled back afterwards, the cache emptied and the clients' cookies put back."""

    def __init__(self, world: World) -> None:
        self.world = world

    def __enter__(self):
        cache.clear()
        self.cookies = [copy.deepcopy(c.cookies) for c in (self.world.agent_client, self.world.reviewer_client)]
        self.atomic = transaction.atomic()
        # As Django's TestCase marks its own: a durable block of the code under test (the allocation) runs inside it.
        self.atomic._from_testcase = True
        self.atomic.__enter__()
        return self

    def __exit__(self, *exc):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)
        self.world.agent_client.cookies, self.world.reviewer_client.cookies = self.cookies
        cache.clear()
        return False


# ------------------------------------------------------------------ reading forms from pages


@dataclass
class Field:
    name: str
    label: str
    hidden: bool
    kind: str  # input type, select or textarea


@dataclass
class Form:
    page: str
    method: str
    action: str
    fields: list[Field]
    base: dict[str, str]  # plausible values: what the page shows, or a guess by the field's name when empty

    @property
    def key(self) -> str:
        return f"{self.method.upper()} {self.action} [{self.page}]"


def _text(element) -> str:
    return " ".join(element.text_content().split())


def _label(doc, element) -> str:
    ident = element.get("id")
    if ident:
        for label in doc.xpath("//label[@for=$id]", id=ident):
            return _text(label).rstrip("*").strip()
    for label in element.xpath("ancestor::label[1]"):  # <label>账户状态 <select>…</select></label>: the words, not the options
        own = " ".join(label.text_content().replace(element.text_content(), " ").split())
        return own.rstrip("*").strip()
    return element.get("aria-label") or element.get("placeholder") or ""


def _plausible(name: str, world: World, page: str) -> str:
    """A valid-looking value for an empty field, so that the other fields do not refuse the request by themselves."""
    guesses = [
        ("period", "2026-01"), ("date_from", "2026-01-01"), ("date_to", "2026-01-31"), ("date", "2026-01-15"), ("start", "2025-07"),
        ("end", "2026-01"), ("amount", "100.00"), ("base", "6500.00"), ("rate", "12%"), ("phone", "13904770001"),
        ("id_number", factories.valid_id_number(77)), ("serial", "YH2026011500001"), ("postal", "010000"), ("opinion", "同意"),
        ("name", cjk_name("职工", 77)), ("reason", "调入"), ("payday", "15"), ("bank_account", "6222021234567890"),
        ("landline", "0477-8581234"), ("income", "8000.00"), ("old_password", factories.PASSWORD),
        ("new_password", "Fuzz@Portal2026xy"),
    ]
    if name == "account_no":
        return world.employer.account_no if page.startswith("/center/") else world.member.account_no
    for part, value in guesses:
        if part in name:
            return value
    return "测试"


def _forms(world: World, page: str, html: str) -> list[Form]:
    doc = lxml.html.fromstring(html)
    found = []
    for form in doc.xpath("//form"):
        method = (form.get("method") or "get").lower()
        action = urljoin(page, form.get("action") or page)
        if urlsplit(action).path in SKIPPED_ACTIONS:
            continue
        fields, base = [], {}
        for element in form.xpath(".//input|.//select|.//textarea|.//button"):
            name, kind = element.get("name"), (element.get("type") or element.tag).lower()
            if not name or name == "csrfmiddlewaretoken" or kind in ("file", "submit", "image", "reset"):
                continue
            if element.tag == "button":
                base.setdefault(name, element.get("value") or "")
                continue
            if element.tag == "select":  # the chosen option, else the first real one (not 请选择)
                options = [o for o in element.xpath(".//option[@selected]") if o.get("value")]
                options += [o for o in element.xpath(".//option") if o.get("value")]
                value = options[0].get("value") if options else ""
            elif element.tag == "textarea":
                value = (element.text or "").strip()
            elif kind in ("checkbox", "radio"):
                if element.get("checked") is None:
                    if name not in base:
                        base[name] = ""
                    continue
                value = element.get("value") or "on"
            else:
                value = element.get("value") or ""
            if not value and method == "post" and element.tag in ("input", "textarea") and kind != "hidden" and element.get("disabled") is None:
                value = _plausible(name, world, page)
            if name not in {f.name for f in fields}:
                fields.append(Field(name, _label(doc, element), kind == "hidden", kind))
            if value or name not in base:
                base[name] = value
        if fields:
            found.append(Form(page, method, action, fields, base))
    return found


def _business_pages(world: World) -> list[str]:
    """Each business's entry page; with a picker, once per subject (启封 takes a sealed member, the rest a normal one)."""
    pages = []
    for business in registry.all():
        if business.picker is None:
            pages.append(business.entry_url)
        else:
            pages += [f"{business.entry_url}?pick={quote(member.account_no)}" for member in world.subjects]
    return pages


def _walk_pages(world: World) -> list[str]:
    pages = []
    for endpoint in endpoints():
        if endpoint.path.startswith(f"/{settings.GJJ_ADMIN_PATH}") or endpoint.label in SKIPPED_VIEWS:
            continue
        if endpoint.view_name in world.samples:
            pages.append(reverse(endpoint.view_name, args=world.samples[endpoint.view_name]))
        else:
            pages.append(endpoint.path)
    return pages


def _identity(form: Form) -> tuple:
    return form.method, urlsplit(form.action).path, tuple(sorted(f.name for f in form.fields))


def _baseline(world: World, form: Form) -> set:
    """What the form shows when sent as the page filled it in: errors there are not the fuzzed field's."""
    with _Example(world):
        return _errors(_body(_send(_client(world, form.page), form, form.base)))


def discover(world: World) -> list[tuple[Form, set]]:
    """Every distinct form of the walked pages with its baseline errors; of forms met on several pages (a business
    page per subject, the logout form everywhere) the one whose plausible values pass best."""
    chosen: dict[tuple, tuple[Form, set]] = {}
    for page in _walk_pages(world) + _business_pages(world):
        response = _client(world, page).get(page)
        assert response.status_code < 500, (page, response.status_code)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for form in _forms(world, page, response.content.decode()):
            identity = _identity(form)
            if identity in chosen and (not chosen[identity][1] or form.method == "get"):
                continue
            background = _baseline(world, form)
            if identity not in chosen or len(background) < len(chosen[identity][1]):
                chosen[identity] = (form, background)
    return list(chosen.values())


# ------------------------------------------------------------------ sending and judging


def _encode(data: dict[str, str]) -> str:
    """application/x-www-form-urlencoded as a browser sends it; a lone surrogate goes as the bytes a careless client
    would send for it (CESU-8), which is not UTF-8."""
    return "&".join(f"{quote(k)}={quote(v.encode('utf-8', 'surrogatepass'), safe='')}" for k, v in data.items())


def _send(client: Client, form: Form, data: dict[str, str]):
    if form.method == "get":
        return client.get(f"{urlsplit(form.action).path}?{_encode(data)}", follow=True)
    return client.post(form.action, _encode(data), content_type="application/x-www-form-urlencoded", follow=True)


@dataclass(frozen=True)
class Shown:
    names: frozenset  # the fields inside the error's .field.has-error; empty for a message of the whole form
    text: str


def _errors(html: str) -> set[Shown]:
    if not html.strip():
        return set()
    doc = lxml.html.fromstring(html)
    shown = set()
    for box in doc.xpath("//*[contains(concat(' ', normalize-space(@class), ' '), ' has-error ')]"):
        names = frozenset(e.get("name") for e in box.xpath(".//*[@name]"))
        for error in box.xpath(".//*[contains(concat(' ', normalize-space(@class), ' '), ' error ')]"):
            shown.add(Shown(names, _text(error)))
    alerts = doc.xpath("//*[@role='alert' or contains(concat(' ', normalize-space(@class), ' '), ' alert ')"
                       " or contains(concat(' ', normalize-space(@class), ' '), ' flash-error ')"
                       " or contains(concat(' ', normalize-space(@class), ' '), ' errors ')"
                       " or (self::p and contains(concat(' ', normalize-space(@class), ' '), ' error '))]")
    for alert in alerts:
        if alert.xpath("ancestor-or-self::*[contains(concat(' ', normalize-space(@class), ' '), ' has-error ')]"):
            continue
        items = alert.xpath(".//p|.//li") or [alert]
        for item in items:
            if _text(item):
                shown.add(Shown(frozenset(), _text(item)))
    return shown


def _names(message: str, label: str) -> bool:
    """The message holds the label (spacing aside: a label may be letter-spaced, 开 始 日 期; and without its unit:
    缴款金额（元）)."""
    label = re.sub(r"[（(][^）)]*[）)]$", "", "".join(label.split()))
    return bool(label) and label in "".join(message.split())


def _body(response) -> str:
    if "html" not in response.get("Content-Type", ""):
        return ""
    return response.content.decode("utf-8", "replace")


def _server_error(response) -> str:
    exc = getattr(response, "exc_info", None)
    if exc:
        return f"500 {exc[0].__name__}: {exc[1]}"[:300]
    return f"status {response.status_code}"


def _fuzz_form(world: World, form: Form, target: Field, tally: Tally, background: set[Shown]) -> None:
    client = _client(world, form.page)
    where = f"{form.key} «{target.label or target.name}» ({target.name})"

    before = _row_counts(UNCOUNTED)  # every example starts from this state (each is rolled back)
    # A refusal must say which field it means, unless there is no other to mean: a hidden field has no label, and
    # the only visible field of a form (汇缴年月) is what any of its messages is about.
    named = not target.hidden and len([f for f in form.fields if not f.hidden]) > 1

    def check(value: str) -> None:
        tally.examples += 1
        with _Example(world):
            response = _send(client, form, {**form.base, target.name: value})
            if response.status_code >= 500:
                tally.server_errors += 1
                tally.problem(where, value, _server_error(response))
                return
            body = _body(response)
            errors = _errors(body)
            refused = response.status_code >= 400 or bool(errors)
            if refused and _row_counts(UNCOUNTED) != before:
                changed = {k for k, v in _row_counts(UNCOUNTED).items() if before.get(k) != v}
                tally.problem(where, value, f"refused yet wrote {sorted(changed)}")
            if response.status_code >= 400 and body and not CJK.search(body):
                tally.problem(where, value, f"status {response.status_code} without a Chinese message")
            fresh = errors - background
            for error in fresh:
                if not CJK.search(error.text):
                    tally.problem(where, value, f"refusal not in Chinese: {error.text[:120]!r}")
            if fresh and named and not any(target.name in e.names or _names(e.text, target.label) for e in fresh):
                tally.problem(where, value, f"refusal does not name the field: {[e.text[:80] for e in fresh]}")

    hostile.run(where, hostile.hostile_text(form.base.get(target.name, ""), key=where), check)


def test_every_form_field_survives_hostile_values(world, fuzz_report):
    tally = fuzz_report.tallies.setdefault("forms", Tally())
    forms = discover(world)
    business_actions = {urlsplit(f.action).path for f, _ in forms}
    for business in registry.all():
        assert business.entry_url in business_actions, f"{business.code}: its entry form was not found on its page"
    for form, background in forms:
        tally.forms += 1
        for target in form.fields:
            tally.fields += 1
            _fuzz_form(world, form, target, tally, background)
    assert tally.forms >= len(registry.all()) + 8, [f.key for f, _ in forms]
    assert not tally.problems, f"{len(tally.problems)} problems:\n" + "\n".join(tally.problems[:MAX_SHOWN])


# ------------------------------------------------------------------ imports


def _workbook(headers: list[str], row: list) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "清册"
    sheet.append(headers)
    sheet.append([hostile.as_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _import_row(business, member) -> dict[str, str]:
    """The template's example row, made true for this employer: a member's 个人账号 and 姓名, a new ID number."""
    row = {c.key: c.example for c in business.columns}
    for column in business.columns:
        if column.kind == "account":
            row[column.key] = member.account_no
        elif column.kind == "id":
            row[column.key] = factories.valid_id_number(78)
    if "name" in row and any(c.kind == "account" for c in business.columns):
        row["name"] = member.name
    return row


def _errors_of(record) -> set[tuple]:
    return {(e.get("row"), e.get("column", ""), e.get("message", "")) for e in (record.errors if record else [])}


def _import_baseline(world: World, business) -> tuple[dict, set]:
    """The example row for the subject it suits best (启封: the sealed member), and the errors it still has."""
    best = None
    for member in world.subjects:
        row = _import_row(business, member)
        with _Example(world):
            pages, record = _import_outcome(world, business, _workbook(business.headers, [row[c.key] for c in business.columns]))
            assert all(p.status_code < 500 for p in pages), business.code
            background = _errors_of(record)
        if best is None or len(background) < len(best[1]):
            best = (row, background)
    return best


def _upload(world: World, business, content: bytes):
    return world.agent_client.post(reverse("approvals:batch-import", args=[business.code]),
                                   {"file": SimpleUploadedFile("清册.xlsx", content)})


def _import_outcome(world: World, business, content: bytes):
    """Upload, then open what the agent is shown (the preview and, when there are errors, the error workbook)."""
    response = _upload(world, business, content)
    record = BatchImport.objects.filter(employer=world.employer, business_code=business.code).order_by("-pk").first()
    pages = [response]
    if response.status_code in (301, 302, 303) and record is not None:
        pages.append(world.agent_client.get(reverse("approvals:import-preview", args=[record.uuid])))
        if record.errors:
            pages.append(world.agent_client.get(reverse("approvals:import-errors", args=[record.uuid])))
    return pages, record


def _fuzz_column(world: World, business, column, tally: Tally, base_row: dict, background: set[tuple]) -> None:
    where = f"import {business.code} «{column.header}»"

    before = _row_counts(IMPORT_UNCOUNTED)

    def check(value) -> None:
        tally.examples += 1
        content = _workbook(business.headers, [value if c.key == column.key else base_row[c.key] for c in business.columns])
        with _Example(world):
            pages, record = _import_outcome(world, business, content)
            broken = [p for p in pages if p.status_code >= 500]
            if broken:
                tally.server_errors += 1
                tally.problem(where, value, _server_error(broken[0]))
                return
            if record is None or pages[0].status_code != 302:
                errors = {(None, "", e.text) for e in _errors(_body(pages[0]))}
            else:
                errors = _errors_of(record)
            refused = bool(errors) or (record is not None and record.status == BatchImport.Status.REJECTED)
            if refused and _row_counts(IMPORT_UNCOUNTED) != before:
                changed = {k for k, v in _row_counts(IMPORT_UNCOUNTED).items() if before.get(k) != v}
                tally.problem(where, value, f"refused yet wrote {sorted(changed)}")
            fresh = errors - background
            for _row, _column, message in fresh:
                if not CJK.search(message):
                    tally.problem(where, value, f"refusal not in Chinese: {message[:120]!r}")
            if fresh and not any(col == column.header or column.header in message for _row, col, message in fresh):
                tally.problem(where, value, f"refusal does not name the column: {sorted(m[:80] for _r, _c, m in fresh)}")

    hostile.run(where, hostile.hostile_cell(base_row[column.key], key=where), check)


def test_every_import_column_survives_hostile_cells(world, fuzz_report):
    tally = fuzz_report.tallies.setdefault("imports", Tally())
    importable = [b for b in registry.all() if b.importable]
    assert importable
    for business in importable:
        base_row, background = _import_baseline(world, business)
        tally.forms += 1
        for column in business.columns:
            tally.fields += 1
            _fuzz_column(world, business, column, tally, base_row, background)
    assert not tally.problems, f"{len(tally.problems)} problems:\n" + "\n".join(tally.problems[:MAX_SHOWN])


def test_the_strategies_cover_every_family_the_issue_names():
    """Overlong, control, bidi, lone surrogates, full-width and Arabic-Indic digits, NaN, Infinity, 1e309, -0, negative
    and 15-digit amounts, impossible dates and months, formulas and markup are all in the list every field draws from."""
    listed = set(hostile.FIXED)
    for value in ("NaN", "Infinity", "1e309", "-0", "-6000.00", "999999999999999", "2026-02-30", "2026-13", "=1+1", "+1",
                  "-1+1", "@SUM(A1)", "<script>alert(1)</script>", "１２３", "١٢٣", "\ud800", "\u202e", "\x00"):
        assert value in listed
    assert any(len(v) >= 5000 for v in listed)
    assert hostile.as_cell("张\x1b\ud800三") == "张_x001B__xD800_三"


# ------------------------------------------------------------------ defects the fuzzer found, each pinned by a plain test


def test_a_nul_in_the_member_picker_is_no_server_error(agent_client, employer):
    """Found by the fuzzer on PostgreSQL (which refuses a NUL in any text): 选择职工's q, its 更多 cursor and the picked
    个人账号 went into the member query unchecked. A control character now matches nothing; a posted one is the
    form's own refusal of the field."""
    member = factories.make_member(employer)
    url = registry.get("member_seal").entry_url
    for params in ({"q": "\x00"}, {"q": "职工\x00", "after": "\x00"}, {"pick": "\x00"}, {"pick": f"{member.account_no}\x00"}):
        response = agent_client.get(url, params)
        assert response.status_code == 200, params
    assert "没有找到符合条件的职工" in agent_client.get(url, {"q": "\x00\x01张"}).content.decode()
    response = agent_client.post(url, {"account_no": "\x00", "reason": "离退休"})
    body = response.content.decode()
    assert response.status_code == 200 and "has-error" in body and "个人账号" in body
    assert not BatchImport.objects.exists() and not Application.objects.exists()


def test_a_nul_in_the_center_employer_search_is_no_server_error(reviewer_client, employer):
    """Found by the fuzzer on PostgreSQL: the center home's 单位账号或名称 search sent its q into the query unchecked."""
    for q in ("\x00", "示例\x00", f"{employer.account_no}\x00"):
        response = reviewer_client.get(reverse("employers:center-home"), {"q": q})
        assert response.status_code == 200, q
    assert employer.name in reviewer_client.get(reverse("employers:center-home"), {"q": "示例\x00"}).content.decode()


def test_a_nul_in_an_imported_account_is_that_rows_error_not_a_failed_check(agent, employer):
    """Found by the fuzzer on PostgreSQL: a 个人账号 cell holding _x0000_ (a NUL) went into the member query, which
    PostgreSQL refuses, and the whole check failed. Now that row is「个人账号」not found, like any unknown account."""
    from approvals.services import batch_import_check

    member = factories.make_member(employer)
    business = registry.get("base_adjust")
    row = {**_import_row(business, member), "account_no": "1000_x0000_1"}
    record = batch_import_check(employer=employer, agent=agent, business_code=business.code, file_name="f.xlsx",
                                content=_workbook(business.headers, [row[c.key] for c in business.columns]))
    assert record.status == BatchImport.Status.CHECKED
    assert [(e["row"], e["column"]) for e in record.errors] == [(2, "个人账号")]


def test_a_whole_yuan_payment_is_recorded_with_two_places(reviewer_client, employer):
    """Found by the fuzzer: 缴款金额 13739 (no decimals, which the field allows) was refused as 须保留两位小数."""
    from remittance.models import Payment

    response = reviewer_client.post(reverse("remittance:payment-list"), {
        "account_no": employer.account_no, "amount": "13739", "value_date": "2026-01-15", "bank_serial_no": "YH2026011500001"})
    assert response.status_code in (302, 303)
    assert Payment.objects.get().amount == Decimal("13739.00")


def test_the_judge_sees_a_fields_own_error_a_form_message_and_a_write(employer):
    """The checks the fuzz test relies on: an error is tied to the field it sits with, a form-wide message is read,
    and a new row anywhere shows in the counts."""
    page = ('<form><div class="field has-error"><label for="id_a">缴存基数</label><input name="a" id="id_a">'
            '<p class="error">格式不正确</p></div><div class="alert" role="alert"><p>缴存基数：超出范围</p></div></form>')
    shown = _errors(page)
    assert Shown(frozenset({"a"}), "格式不正确") in shown and Shown(frozenset(), "缴存基数：超出范围") in shown
    assert _names("缴款金额须保留两位小数", "缴款金额（元）") and _names("开始日期：无效", "开 始 日 期")
    before = _row_counts(UNCOUNTED)
    factories.make_member(employer)
    assert _row_counts(UNCOUNTED)["members.member"] == before["members.member"] + 1
