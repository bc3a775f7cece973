"""经办人管理 (issue 17): the list of what an agent can be given, drawn from the business registry and the
registered pages, so that a business registered later appears here without code."""

from dataclasses import dataclass

from approvals import registry


@dataclass(frozen=True)
class Grantable:
    """One line of the permission form: a business or a page (汇缴, the queries)."""

    key: str
    label: str
    module: str
    # A 清册 is prepared and completed in two steps, so it can be 仅录入 and can need two agents; a single-form
    # application is filled in and submitted in one step, and a page (汇缴, a query) has 核定 / 分配 of its own.
    two_step: bool
    page: bool = False


def grantables() -> list[Grantable]:
    """Every business and page an agent may be given, in the home page's module order."""
    result = []
    for module in registry.MODULES:
        for page in registry.pages():
            if page.module == module:
                two_step = any(action != "view" for _, action in page.guards)  # 汇缴: 核定 is 录入, 分配 is 提交
                result.append(Grantable(key=page.code, label=page.module, module=module, two_step=two_step, page=True))
        for business in registry.in_module(module):
            result.append(Grantable(key=business.code, label=business.name, module=module, two_step=business.shape == "batch"))
    modules = set(registry.MODULES)
    for business in sorted(registry.all(), key=lambda b: b.code):  # a business without a home tile is granted too
        if business.module not in modules:
            result.append(Grantable(key=business.code, label=business.name, module="", two_step=business.shape == "batch"))
    return result


def grantable_keys() -> set[str]:
    return {g.key for g in grantables()}


def business_label(key: str) -> str:
    """The Chinese name of a business or page key (for messages)."""
    try:
        return registry.get(key).name
    except KeyError:
        pass
    for page in registry.pages():
        if page.code == key:
            return page.module
    return key
