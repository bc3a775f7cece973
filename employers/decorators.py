"""Role checks and the tenant helper (STYLE.md §8): they live in gjj_portal.tenancy, below every app."""

from gjj_portal.tenancy import agent_required, current_employer, not_found, reviewer_required

__all__ = ["agent_required", "current_employer", "not_found", "reviewer_required"]
