from django.urls import path

from . import collection_views, interest_views, ledger_views, statement_views, supplement_views, views

app_name = "remittance"

urlpatterns = [
    path("remittance/", views.index, name="index"),
    path("remittance/assess/", views.assess, name="assess"),
    path("remittance/assessments/", views.assessment_list, name="assessment-list"),
    path("remittance/assessments/<int:pk>/", views.assessment_detail, name="assessment-detail"),
    path("remittance/assessments/<int:pk>/print/", views.assessment_print, name="assessment-print"),
    path("remittance/assessments/<int:pk>/delete/", views.assessment_delete, name="assessment-delete"),
    path("remittance/allocate/", views.allocate_list, name="allocate-list"),
    path("remittance/allocate/<int:pk>/", views.allocate, name="allocate"),
    path("remittance/entries/<int:pk>/done/", views.allocate_done, name="allocate-done"),
    path("remittance/supplements/", supplement_views.supplement_list, name="supplement-list"),
    path("remittance/supplements/<int:pk>/allocate/", supplement_views.supplement_allocate, name="supplement-allocate"),
    path("remittance/supplements/<int:pk>/print.pdf", supplement_views.supplement_print, name="supplement-print"),
    path("remittance/members/<str:account_no>/supplements/", supplement_views.member_supplements, name="member-supplements"),
    path("remittance/entries/<int:pk>/supplement-done/", supplement_views.supplement_done, name="supplement-done"),
    path("remittance/query/", views.query, name="query"),
    path("remittance/query/statements/", statement_views.statement_page, name="statements"),
    path("remittance/query/statements/print/", statement_views.statement_print, name="statement-print"),
    path("remittance/query/account/", views.account_query, name="account-query"),
    path("remittance/query/account/print/", views.account_query_print, name="account-query-print"),
    path("remittance/query/journal/", views.journal_query, name="journal-query"),
    path("remittance/query/journal/print/", views.journal_query_print, name="journal-query-print"),
    path("remittance/entries/<int:pk>/", views.entry_detail, name="entry-detail"),
    path("remittance/entries/<int:pk>/detail.pdf", views.entry_detail_print, name="entry-detail-print"),
    path("remittance/entries/<int:pk>/slip.pdf", views.entry_slip, name="entry-slip"),
    path("receipt/verify/", views.receipt_verify, name="receipt-verify"),
    path("center/interest/", interest_views.interest_page, name="center-interest"),
    path("center/interest/start/", interest_views.interest_start, name="center-interest-start"),
    path("center/payments/", views.payment_list, name="payment-list"),
    path("center/payments/import/", views.payment_import, name="payment-import"),
    path("center/payments/<int:pk>/slip.pdf", views.payment_slip, name="payment-slip"),
    # 托收 (issue 16 item 1) and 撤销核定 (item 2)
    path("remittance/debit/", collection_views.debit_home, name="debit-home"),
    path("remittance/debit/<int:pk>/", collection_views.debit_detail, name="debit-detail"),
    path("remittance/debit/<int:pk>/retry/", collection_views.debit_retry, name="debit-retry"),
    path("remittance/debit/<int:pk>/transfer/", collection_views.debit_transfer, name="debit-transfer"),
    path("remittance/debit/agreements/<int:pk>/print/", collection_views.agreement_print, name="debit-agreement-print"),
    path("remittance/assessments/<int:pk>/revoke/", collection_views.assessment_revoke, name="assessment-revoke"),
    path("center/debit/", collection_views.debit_runs, name="debit-runs"),
    path("center/debit/return/", collection_views.debit_return, name="debit-return"),
    path("center/debit/<int:pk>/", collection_views.debit_run, name="debit-run"),
    path("center/debit/<int:pk>/file.csv", collection_views.debit_run_file, name="debit-run-file"),
    # 明细账 (issue 17 item 5)
    path("remittance/query/ledger/", ledger_views.ledger_page, name="ledger"),
    path("remittance/query/ledger/export.xlsx", ledger_views.ledger_export, name="ledger-export"),
    path("remittance/query/ledger/print/", ledger_views.ledger_print_view, name="ledger-print"),
]
