"""Reads of members for pages and exports (always scoped to the employer)."""

from decimal import Decimal

from django.db.models import Count, F, Prefetch, Q, Sum
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from employers.models import Employer
from gjj_portal.paging import PreparedList, keyset_page
from gjj_portal.prepared import prepared
from gjj_portal.table_rows import link, url_for_rows
from gjj_portal.templatetags.gjj import percent, period, yuan

from .models import Headcount, Member, MemberChange, ScheduledBaseChange

_HEADCOUNT_BY_STATUS = prepared(lambda employer_id: Headcount.objects.filter(employer=employer_id).order_by().values_list("status", "members"))


def member_counts(*, employer: Employer) -> dict[str, int]:
    """Headcount by status for the home page header, from the kept headcount (members.headcount): a few rows, not the
    employer's members."""
    by_status: dict[str, int] = {}
    for status, members in _HEADCOUNT_BY_STATUS(employer_id=employer.pk):
        by_status[status] = by_status.get(status, 0) + members  # a row per department and status: added here, not grouped in SQL
    return {"total": sum(by_status.values()), "normal": by_status.get(Member.Status.NORMAL, 0), "sealed": by_status.get(Member.Status.SEALED, 0)}


def in_scope(qs, agent, *, field: str = "department_id"):
    """单位部门管理 (issue 17): an agent limited to some departments reads and changes only their members (`field` leads
    from the rows to the member's department); an agent without a limit, all of its employer's."""
    scope = agent.department_scope() if agent is not None else None
    return qs if scope is None else qs.filter(**{f"{field}__in": scope})


def member_get(*, employer: Employer, account_no: str, agent=None) -> Member | None:
    """One member of this employer by 个人账号, within the agent's departments; None otherwise (the view answers 404)."""
    return in_scope(Member.objects.filter(employer=employer, account_no=account_no[:20]), agent).first()


PICKER_FIELDS = ("pk", "account_no", "name", "id_masked", "status", "base", "monthly_amount", "department_id")
_ID_TAIL = 4  # id_masked keeps the last four characters of the 身份证号 (110105********002X)
_VERIFY_LIMIT = 200  # members whose last four match, checked against five or six typed characters


def _id_tail_match(members, tail: str) -> Q:
    """The last 4–6 characters of the 身份证号. Four are matched on id_masked; five or six cannot be read there, so the
    few members whose last four match are checked against the number itself (decrypted here, never returned)."""
    if len(tail) == _ID_TAIL:
        return Q(id_masked__endswith=tail)
    candidates = members.filter(id_masked__endswith=tail[-_ID_TAIL:]).only("pk", "uuid", "id_number_enc")[:_VERIFY_LIMIT]
    return Q(pk__in=[m.pk for m in candidates if (m.id_number or "").endswith(tail)])


def member_search(*, employer: Employer, query: str, status: str | None = None, exclude_ids=(), limit: int = 20, after: str = "",
                  agent=None):
    """The member picker (seed 001: 通过个人账号下拉框选择职工) as a search that stays cheap for 20,000 members: by
    个人账号 (prefix), name (contains) or the ID's last 4–6 characters, this employer's members only, in 个人账号
    order, `limit` at a time after the 个人账号 `after` (keyset paging). On PostgreSQL the employer index confines the
    scan to this employer's rows (a name "contains" cannot use a b-tree anyway): ~20 ms for 20,000 members."""
    query = " ".join((query or "").split())[:40]
    if not query:
        return Member.objects.none()
    qs = in_scope(Member.objects.filter(employer=employer), agent)
    if status:
        qs = qs.filter(status=status)
    match = Q(name__contains=query)
    if query.isdigit() or query[:-1].isdigit() and query[-1:] in "Xx":
        match |= Q(account_no__startswith=query)
        if _ID_TAIL <= len(query) <= 6:
            match |= _id_tail_match(qs, query.upper())
    qs = qs.filter(match)
    if after:
        qs = qs.filter(account_no__gt=after)
    if exclude_ids is not None:  # a list, or a subquery (the 清册's members): never read into Python
        qs = qs.exclude(pk__in=exclude_ids)
    return qs.only(*PICKER_FIELDS).order_by("account_no")[: max(1, min(limit, 100))]


NO_DEPARTMENT = "none"  # the 部门 selector's 未分配部门


def member_account_list(*, employer: Employer, opened_from=None, opened_to=None, query: str = "", status: str = "",
                        department: str = "", agent=None):
    """账户信息 (seed 001 §7.1): the employer's members by open date and name or 个人账号, and by 部门 (a department's
    pk, or NO_DEPARTMENT), within the agent's departments."""
    qs = in_scope(Member.objects.filter(employer=employer), agent)
    if department == NO_DEPARTMENT:
        qs = qs.filter(department__isnull=True)
    elif department:
        qs = qs.filter(department_id=department)
    if opened_from:
        qs = qs.filter(opened_on__gte=opened_from)
    if opened_to:
        qs = qs.filter(opened_on__lte=opened_to)
    if query:
        qs = qs.filter(Q(account_no=query) | Q(name__contains=query))
    if status:
        qs = qs.filter(status=status)
    return qs.only(
        "pk", "account_no", "name", "id_masked", "gender", "status", "base", "employer_rate", "member_rate", "employer_amount",
        "member_amount", "monthly_amount", "opened_on", "start_period", "paid_up_to", "employer_id",
        "department__code", "department__name",
    ).select_related("department").order_by("account_no")


ACCOUNT_ORDER = ("account_no",)  # read along (employer, account_no): members_member_emp_account
ACCOUNT_PAGE_SIZE = 20
ACCOUNT_FIELDS = ("pk", "account_no", "name", "id_masked", "gender", "status", "base", "employer_rate", "member_rate", "employer_amount",
                  "member_amount", "monthly_amount", "opened_on", "start_period", "paid_up_to", "employer_id", "department_id")
# 账户信息 as it opens (no filter, an agent who sees every department): its pages' reads compiled once per process
# (gjj_portal.paging.PreparedList), the department's name read with the row.
_ACCOUNTS = PreparedList(lambda employer_id: Member.objects.filter(employer=employer_id).only(*ACCOUNT_FIELDS)
                         .annotate(department_name=F("department__name")), model=Member, order=ACCOUNT_ORDER, size=ACCOUNT_PAGE_SIZE)


def member_account_page(*, employer: Employer, members, filters: dict | None, params, agent=None):
    """The page of 账户信息 the request's cursor names: of `members` (member_account_list of the filter), or, for the
    page as it opens, the same rows by the prepared read."""
    if filters == {} and (agent is None or agent.department_scope() is None):
        return _ACCOUNTS.page(params, employer_id=employer.pk)
    return keyset_page(members, params, order=ACCOUNT_ORDER, size=ACCOUNT_PAGE_SIZE)


def _pending_bases():
    return ScheduledBaseChange.objects.filter(status=ScheduledBaseChange.Status.PENDING).order_by("effective_period", "pk")


def with_pending_bases(members):
    """The members with their 待生效 base changes as `pending_bases` (the print reads every row of the filter)."""
    return members.prefetch_related(Prefetch("scheduled_bases", queryset=_pending_bases(), to_attr="pending_bases"))


def pending_bases_of(members) -> dict[int, list[tuple]]:
    """The 待生效 base changes of a page's members, (生效年月, 基数) in 生效年月 order by member pk: one query of three
    columns, not a prefetch (which builds an instance and its related manager for each)."""
    ids = [member.pk for member in members]
    found: dict[int, list[tuple]] = {}
    if ids:
        for member_id, effective_period, base in _pending_bases().filter(member_id__in=ids).values_list("member_id", "effective_period", "base"):
            found.setdefault(member_id, []).append((effective_period, base))
    return found


ACCOUNT_CLASSES = ("", "", "", "", "", "num", "num", "num", "num", "", "")  # 缴存基数, 单位比例, 个人比例, 月缴存额 on the right


def member_account_cells(members, *, by_department: bool) -> list[tuple]:
    """账户信息's cells of each row of a page, formatted once here rather than by a filter per cell in the template
    (members/account_query.html): a 待生效 base below the base, the 部门 where the employer has departments, and the
    link to the member's 补缴记录."""
    pending = pending_bases_of(members)
    genders, statuses = dict(Member.Gender.choices), dict(Member.Status.choices)
    supplements = url_for_rows("remittance:member-supplements")
    rows = []
    for m in members:
        base = yuan(m.base)
        if m.pk in pending:
            base = format_html("{}{}", base, format_html_join("", '<br><span class="small muted">{}起 {}（待生效）</span>',
                                                             ((period(when), yuan(amount)) for when, amount in pending[m.pk])))
        row = [m.account_no, m.name, m.id_masked, genders.get(m.gender, m.gender), statuses.get(m.status, m.status), base,
               percent(m.employer_rate), percent(m.member_rate), yuan(m.monthly_amount),
               f"{m.opened_on:%Y-%m-%d}" if m.opened_on else "", period(m.paid_up_to)]
        if by_department:
            row.append(_department_name(m) or "—")
        row.append(link(supplements(m.account_no), "补缴记录"))
        rows.append(row)
    return rows


def _department_name(member: Member) -> str:
    """A member's department's name: read with the row (department_name), or from its department (select_related)."""
    if not member.department_id:
        return ""
    return member.department_name if hasattr(member, "department_name") else member.department.name


def _of_department(qs, department: str, *, field: str = "member__department"):
    """部门 of the filter: a department's pk, NO_DEPARTMENT, or '' for all."""
    if department == NO_DEPARTMENT:
        return qs.filter(**{f"{field}__isnull": True})
    return qs.filter(**{f"{field}_id": department}) if department else qs


# What the page and the print show of a 待生效 base change: not the member's or the 办理人's whole row.
SCHEDULED_ROW_FIELDS = ("pk", "employer_id", "member_id", "actor_id", "base", "monthly_amount", "effective_period", "status", "created_at",
                        "member__account_no", "member__name", "member__base", "actor__display_name", "actor__login_name", "actor__username")


def scheduled_base_list(*, employer: Employer, query: str = "", agent=None, department: str = ""):
    """基数调整 approved for a later 生效年月 and not yet in force (客户信息变更查询 shows them as 待生效)."""
    qs = ScheduledBaseChange.objects.filter(employer=employer, status=ScheduledBaseChange.Status.PENDING).select_related("member", "actor")
    qs = _of_department(in_scope(qs, agent, field="member__department_id"), department)
    if query:
        qs = qs.filter(Q(member__account_no=query) | Q(member__name__contains=query))
    return qs.only(*SCHEDULED_ROW_FIELDS).order_by("effective_period", "member__account_no", "pk")


def member_account_totals(members) -> dict:
    """合计 of an 账户信息 result: 人数 and 月缴存额 (one query over the rows it selects)."""
    return members.order_by().aggregate(count=Count("*"), monthly_amount=Sum("monthly_amount", default=Decimal("0.00")))


def member_department_subtotals(members) -> list[dict]:
    """部门小计 of an 账户信息 result: 人数 and 月缴存额 per department, in 部门编号 order, 未分配部门 last (one query)."""
    rows = (members.order_by().values("department_id", "department__code", "department__name")
            .annotate(count=Count("*"), monthly_amount=Sum("monthly_amount", default=Decimal("0.00"))))
    return _subtotals_sorted({"code": r["department__code"] or "", "name": r["department__name"] or "未分配部门", "count": r["count"],
                              "monthly_amount": r["monthly_amount"], "none": r["department_id"] is None} for r in rows)


def _subtotals_sorted(rows) -> list[dict]:
    return sorted(rows, key=lambda r: (r["none"], r["code"]))


def _headcount_kept(employer_id):
    return Headcount.objects.filter(employer=employer_id).exclude(members=0).order_by().values_list("department_key", "members", "monthly_amount")


_HEADCOUNT_KEPT = prepared(_headcount_kept)


def member_account_summary(*, employer: Employer, members, filters: dict, departments: list, agent=None,
                           subtotals: bool = True) -> tuple[dict, list[dict]]:
    """合计 and 部门小计 of an 账户信息 result. The page as it opens, or filtered by 账户状态 and 部门 alone, reads them
    from the kept headcount (members.headcount: a few rows whatever the employer's size; one query, the departments'
    names from `departments`, the page's own list); a filter by 开户日期 or by name/个人账号 adds up the rows it
    selects (`members`)."""
    if any(filters.get(key) for key in ("date_from", "date_to", "query")):
        return member_account_totals(members), member_department_subtotals(members) if subtotals else []
    scope = agent.department_scope() if agent is not None else None
    department, status = filters.get("department", ""), filters.get("status", "")
    if scope is None and not department and not status:  # the page as it opens: compiled once per process
        kept = _HEADCOUNT_KEPT(employer_id=employer.pk)
    else:
        kept = _headcount_kept(employer.pk)
        if scope is not None:
            kept = kept.filter(department_key__in=scope)
        if department:
            kept = kept.filter(department_key=0 if department == NO_DEPARTMENT else int(department))
        if status:
            kept = kept.filter(status=status)
    grouped: dict[int, dict] = {}  # a row per department and status: added up here, not grouped in SQL (cheaper to build)
    for key, members, amount in kept:
        row = grouped.setdefault(key, {"department_key": key, "count": 0, "monthly_amount": Decimal("0.00")})
        row["count"] += members
        row["monthly_amount"] += amount
    rows = list(grouped.values())
    totals = {"count": sum(r["count"] for r in rows), "monthly_amount": sum((r["monthly_amount"] for r in rows), Decimal("0.00"))}
    if not subtotals:
        return totals, []
    named = {d.pk: d for d in departments}
    return totals, _subtotals_sorted(
        {"code": d.code if d else "", "name": d.name if d else "未分配部门", "count": r["count"], "monthly_amount": r["monthly_amount"],
         "none": d is None} for r in rows for d in [named.get(r["department_key"])])


def member_change_list(*, employer: Employer, kinds: list[str], date_from=None, date_to=None, query: str = "", reason: str = "",
                       agent=None, department: str = ""):
    """客户信息变更查询 / 账户状态变更查询 (seed 001 §7.2–7.3), of the members within the agent's departments, and of
    one 部门 (the member's department now)."""
    qs = MemberChange.objects.filter(employer=employer, kind__in=kinds).select_related("member", "actor")
    qs = _of_department(in_scope(qs, agent, field="member__department_id"), department)
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    if query:
        qs = qs.filter(Q(member__account_no=query) | Q(member__name__contains=query))
    if reason:
        qs = qs.filter(reason=reason)
    return qs.order_by("-at", "-pk")


CHANGE_CLASSES = ("",) * 10
SCHEDULED_CLASSES = ("", "", "", "num", "num", "num", "", "", "")  # 当前缴存基数, 调整后缴存基数, 调整后月缴存额


CHANGE_ORDER = ("-at", "-pk")  # read backwards along (employer, at, id): members_change_emp_at
CHANGE_PAGE_SIZE = 20
# 客户信息变更查询, 账户状态变更查询
CHANGE_KINDS = {"changes": (MemberChange.Kind.BASE, MemberChange.Kind.INFO), "status": (MemberChange.Kind.STATUS, MemberChange.Kind.OPEN)}


def _change_rows(kinds):
    """The records of `kinds` as named tuples of the columns shown, the member's and the 办理人's read with the row."""
    def build(employer_id: int):
        return (MemberChange.objects.filter(employer=employer_id, kind__in=kinds)
                .annotate(account_no=F("member__account_no"), member_name=F("member__name"), actor_display=F("actor__display_name"),
                          actor_login=F("actor__login_name"), actor_username=F("actor__username"))
                .values_list("pk", "at", "kind", "field", "old", "new", "reason", "effective_period", "account_no", "member_name",
                             "actor_id", "actor_display", "actor_login", "actor_username", named=True))
    return build


# The queries as they open: their reads compiled once per process (gjj_portal.paging.PreparedList).
_CHANGES = {name: PreparedList(_change_rows(kinds), model=MemberChange, order=CHANGE_ORDER, size=CHANGE_PAGE_SIZE)
            for name, kinds in CHANGE_KINDS.items()}


def member_change_page(*, employer: Employer, changes, filters: dict | None, params, tab: str, agent=None) -> tuple:
    """The page of a change query the request's cursor names, and its cells: of `changes` (member_change_list of the
    filter), or, for the page as it opens, the same records by the prepared read (its reads compiled once per process)."""
    if filters == {} and (agent is None or agent.department_scope() is None):
        page = _CHANGES[tab].page(params, employer_id=employer.pk)
        return page, member_change_row_cells(page)
    page = keyset_page(changes.only(*CHANGE_ROW_FIELDS), params, order=CHANGE_ORDER, size=CHANGE_PAGE_SIZE)
    return page, member_change_cells(page)


# What a row of 客户信息变更查询 and 账户状态变更查询 shows (members/change_query.html): not the member's or the
# 办理人's whole row.
CHANGE_ROW_FIELDS = ("pk", "at", "kind", "field", "old", "new", "reason", "effective_period", "employer_id", "member_id", "actor_id",
                     "member__account_no", "member__name", "actor__display_name", "actor__login_name", "actor__username")


def member_change_row_cells(rows) -> list[tuple]:
    """member_change_cells of the named rows of the prepared read."""
    kinds, localtime = dict(MemberChange.Kind.choices), timezone.localtime
    return [(f"{localtime(r.at):%Y-%m-%d %H:%M}", r.account_no, r.member_name, kinds.get(r.kind, r.kind), r.field, r.old, r.new,
             r.reason, period(r.effective_period), "" if r.actor_id is None else (r.actor_display or r.actor_login or r.actor_username))
            for r in rows]


def member_change_cells(changes) -> list[tuple]:
    """客户信息变更查询 / 账户状态变更查询's cells of each record of a page (members/change_query.html): 变更时间 in
    the local time, 个人账号, 姓名, 变更类型, 变更项目, 变更前, 变更后, 变更原因, 生效年月, 办理人."""
    kinds, localtime = dict(MemberChange.Kind.choices), timezone.localtime
    return [(f"{localtime(c.at):%Y-%m-%d %H:%M}", c.member.account_no, c.member.name, kinds.get(c.kind, c.kind), c.field, c.old, c.new,
             c.reason, period(c.effective_period), "" if c.actor is None else str(c.actor)) for c in changes]


def scheduled_base_cells(scheduled) -> list[tuple]:
    """The cells of the 待生效 base changes listed above the records: 个人账号, 姓名, 变更项目, 当前缴存基数, 调整后缴存基数,
    调整后月缴存额, 生效年月, 状态, 办理人."""
    statuses = dict(ScheduledBaseChange.Status.choices)
    return [(s.member.account_no, s.member.name, "缴存基数", yuan(s.member.base), yuan(s.base), yuan(s.monthly_amount),
             period(s.effective_period), statuses.get(s.status, s.status), "" if s.actor is None else str(s.actor)) for s in scheduled]


def group_transfer_sources(*, employer: Employer):
    """缴存人单位调整's 转出单位 (seed 001 ch.12): only the units the center linked with this employer as one group (集团)
    and granted its agents to act for (employers.GroupTransferGrant), never a list of the center's employers."""
    if employer.group_id is None:
        return Employer.objects.none()
    return (Employer.objects.filter(group_id=employer.group_id, group_grants_out__employer=employer)
            .exclude(pk=employer.pk).only("pk", "account_no", "name", "group_id", "status").order_by("account_no"))


def transfer_candidate(*, employer: Employer, id_number: str, exclude_ids=None):
    """缴存人调动's search by 身份证号 (seed 000 §7): the person's open account, found only when another employer has
    sealed it. Anything else (no such person, an account not sealed, one at this employer) finds nothing, alike."""
    qs = (Member.objects.by_id_number(id_number).filter(status=Member.Status.SEALED).exclude(employer=employer)
          .select_related("employer"))
    if exclude_ids is not None:
        qs = qs.exclude(pk__in=exclude_ids)
    return qs.first()


def group_transfer_search(*, employer: Employer, query: str, exclude_ids=(), after: str = "", limit: int = 20):
    """单位调整's 选择职工: the normal and sealed members of the linked units granted to this employer, by name,
    个人账号 or the ID's last digits (member_search over each unit), in 个人账号 order."""
    found = []
    for source in group_transfer_sources(employer=employer):
        for member in member_search(employer=source, query=query, exclude_ids=exclude_ids, after=after, limit=limit):
            if member.status != Member.Status.CLOSED:
                member.employer = source  # the suggestion names its unit
                found.append(member)
    return sorted(found, key=lambda m: m.account_no)[:limit]
