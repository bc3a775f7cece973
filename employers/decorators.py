"""Role checks and the tenant helper (STYLE.md §8): they live in gjj_portal.tenancy, below every app.

经办人管理 (issue 17) adds the 主经办人 check and the business permission check (business_check, which the
清册 engine calls too: it reads the rule from the user, User.business_refusal)."""

from gjj_portal.tenancy import (
                                  _role_required,
                                  agent_required,
                                  business_allowed,
                                  business_check,
                                  current_employer,
                                  not_found,
                                  reviewer_required,
)

# 经办人管理: the employer's 主经办人 only; any other agent (or a reviewer, an administrator) gets 403.
primary_required = _role_required(lambda user: getattr(user, "is_agent", False) and getattr(user, "is_primary", False),
                                  "只有本单位的主经办人可以管理经办人。")

# 单位部门管理: the departments decide what a limited agent sees, so they are the 主经办人's, like the agents.
departments_required = _role_required(lambda user: getattr(user, "is_agent", False) and getattr(user, "is_primary", False),
                                      "只有本单位的主经办人可以管理部门。")

__all__ = ["agent_required", "business_allowed", "business_check", "current_employer", "departments_required", "not_found", "primary_required",
           "reviewer_required"]
