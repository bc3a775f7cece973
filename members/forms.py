"""Query forms of the members app (the business entry forms live with each business in businesses/)."""

from django import forms

from gjj_portal.forms import CachedSelect, DateRangeMixin, QuickDateInput, QuickTextInput

from .models import Member


class _DateRange(DateRangeMixin, forms.Form):
    date_from = forms.DateField(label="开始日期", required=False, widget=QuickDateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="结束日期", required=False, widget=QuickDateInput(attrs={"type": "date"}))
    query = forms.CharField(label="个人账号或姓名", required=False, max_length=50, widget=QuickTextInput)


class AccountQueryForm(_DateRange):
    """账户信息: by 开户日期 and member."""

    status = forms.ChoiceField(label="账户状态", required=False, choices=[("", "全部")] + list(Member.Status.choices), widget=CachedSelect)

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["date_from"].label = "开户日期自"
        self.fields["date_to"].label = "开户日期至"
        if departments:  # 单位部门管理 (issue 17): only where the employer has departments, only those the agent may see
            self.fields["department"] = department_field(departments)


def department_field(departments) -> forms.ChoiceField:
    """The 部门 selector of a query: 全部, each department (编号 名称), 未分配部门."""
    from .selectors import NO_DEPARTMENT

    choices = [("", "全部"), *((str(d.pk), f"{d.code} {d.name}") for d in departments), (NO_DEPARTMENT, "未分配部门")]
    return forms.ChoiceField(label="部门", required=False, choices=choices, widget=CachedSelect,
                             error_messages={"invalid_choice": "请选择列表中的部门。"})


class _ByDepartment:
    """单位部门管理 (issue 17): the 部门 selector, only where the employer has departments."""

    def __init__(self, *args, departments=(), **kwargs):
        super().__init__(*args, **kwargs)
        if departments:
            self.fields["department"] = department_field(departments)


class ChangeQueryForm(_ByDepartment, _DateRange):
    """客户信息变更查询."""


class StatusChangeQueryForm(_ByDepartment, _DateRange):
    """账户状态变更查询: 个人账号, 变更类型, 查询日期."""

    change_type = forms.ChoiceField(label="变更类型", required=False, choices=[
        ("", "全部"), ("封存", "封存"), ("启封", "启封"), ("开户", "开户"), ("调入", "调入"), ("调出", "调出"),
    ], widget=CachedSelect)
