"""Services of the members app: every write to a Member goes through here (ARCHITECTURE.md「members」),
one module per concern, re-exported so that `from members.services import X` keeps working."""

from .accounts import (
    FROM_LINE,
    OPEN_REFUSED,
    member_account_numbers,
    member_amounts,
    member_open,
    member_open_accounts,
    members_open_from_batch,
)
from .annual_bases import (
    AnnualBase,
    AnnualWindow,
    annual_base_closed,
    annual_base_declared,
    annual_in_force_period,
    annual_window_get,
    members_annual_rebase,
    unallocated_source_register,
)
from .bases import (
    RebaseItem,
    bases_apply_due,
    employer_next_period,
    member_rebase,
    members_rebase,
    members_rerate,
    next_period_source_register,
)
from .history import HistoryItem
from .info import MEMBER_INFO_FIELDS, InfoChange, member_info_change, member_info_label
from .status import StatusItem, member_seal, member_unseal, members_seal, members_unseal
from .transfers import (
    GROUP_TRANSFER,
    TRANSFER_IN,
    Move,
    TransferItem,
    TransferMoney,
    members_transfer,
    transfer_amounts,
    transfer_blockers,
    transfer_money_register,
    transfer_start_check,
)

__all__ = [
    "AnnualBase", "AnnualWindow", "annual_base_closed", "annual_base_declared", "annual_in_force_period", "annual_window_get",
    "members_annual_rebase", "unallocated_source_register",
    "FROM_LINE", "OPEN_REFUSED", "member_account_numbers", "member_amounts", "member_open", "member_open_accounts",
    "members_open_from_batch", "RebaseItem", "bases_apply_due", "employer_next_period", "member_rebase", "members_rebase", "members_rerate",
    "next_period_source_register", "HistoryItem", "MEMBER_INFO_FIELDS", "InfoChange", "member_info_change", "member_info_label",
    "StatusItem", "member_seal", "member_unseal", "members_seal", "members_unseal",
    "GROUP_TRANSFER", "TRANSFER_IN", "Move", "TransferItem", "TransferMoney", "members_transfer", "transfer_amounts",
    "transfer_blockers", "transfer_money_register", "transfer_start_check",
]
