from django.urls import path

from posfleet.console import (
    views_accounts,
    views_alerts,
    views_audit,
    views_auth,
    views_dashboard,
    views_detail,
    views_holds,
    views_jobs,
    views_merchants,
    views_pick,
    views_terminals,
)

app_name = "console"

urlpatterns = [
    path("", views_dashboard.dashboard, name="dashboard"),
    path("morning/", views_dashboard.morning_cards, name="morning"),
    path("login/", views_auth.ConsoleLoginView.as_view(), name="login"),
    path("logout/", views_auth.logout_view, name="logout"),
    path("step-up/", views_auth.step_up, name="step_up"),
    path("terminals/", views_terminals.terminal_list, name="terminals"),
    path("terminals/bulk/", views_terminals.bulk_start, name="bulk_start"),
    path("terminals/bulk/<str:key>/", views_terminals.bulk_confirm, name="bulk_confirm"),
    path("terminals/<str:tid>/", views_detail.terminal_detail, name="terminal"),
    path("terminals/<str:tid>/apply/", views_detail.terminal_apply, name="terminal_apply"),
    path("terminals/<str:tid>/holds/", views_detail.terminal_hold, name="terminal_hold"),
    path("holds/", views_holds.bulk_holds, name="bulk_holds"),
    path("holds/<int:hold_id>/release/", views_detail.hold_release, name="hold_release"),
    path("merchants/", views_merchants.merchant_list, name="merchants"),
    path("merchants/<int:merchant_id>/", views_merchants.merchant_detail, name="merchant"),
    path("merchants/<int:merchant_id>/holds/", views_merchants.merchant_hold, name="merchant_hold"),
    path("merchants/<int:merchant_id>/apply/", views_merchants.merchant_apply, name="merchant_apply"),
    path("alerts/", views_alerts.alert_list, name="alerts"),
    path("alerts/<int:alert_id>/acknowledge/", views_alerts.alert_acknowledge, name="alert_acknowledge"),
    path("audit/", views_audit.audit_list, name="audit"),
    path("audit/verify/", views_audit.audit_verify, name="audit_verify"),
    path("jobs/", views_jobs.job_list, name="jobs"),
    path("jobs/<int:job_id>/retry/", views_jobs.job_retry, name="job_retry"),
    path("tokens/", views_accounts.token_list, name="tokens"),
    path("tokens/<int:token_id>/revoke/", views_accounts.token_revoke, name="token_revoke"),
    path("totp/", views_accounts.totp_page, name="totp"),
    path("pick/merchants/", views_pick.pick_merchants, name="pick_merchants"),
    path("pick/terminals/", views_pick.pick_terminals, name="pick_terminals"),
]
