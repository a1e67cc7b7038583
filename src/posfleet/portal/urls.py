from django.urls import path

from posfleet.notices import portal_views
from posfleet.portal import views, views_cases, views_disputes

app_name = "portal"

urlpatterns = [
    path("login/", views.login_view, name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("", views.home, name="home"),
    path("notices/", views.notices, name="notices"),
    path("notices/<int:notice_id>/pdf/", views.notice_pdf, name="notice_pdf"),
    path("statement.csv", views.statement_csv, name="statement_csv"),
    path("verify/", views.verify_help, name="verify"),
    path("verify/report/", portal_views.report_fraud, name="report_fraud"),
    path("requests/", views_cases.case_list, name="cases"),
    path("requests/new/", views_cases.case_new, name="case_new"),
    path("requests/<int:case_id>/", views_cases.case_detail, name="case"),
    path("requests/<int:case_id>/materials/", views_cases.case_material, name="case_material"),
    path("requests/<int:case_id>/comment/", views_cases.case_comment, name="case_comment"),
    path("requests/<int:case_id>/cancel/", views_cases.case_cancel, name="case_cancel"),
    path("requests/<int:case_id>/resubmit/", views_cases.case_resubmit, name="case_resubmit"),
    path("requests/<int:case_id>/export/", views_cases.case_export_start, name="case_export_start"),
    path("requests/<int:case_id>/letter.pdf", views_cases.case_letter, name="case_letter"),
    path("requests/<int:case_id>/export.csv", views_cases.case_export, name="case_export"),
    path("disputes/", views_disputes.dispute_list, name="disputes"),
    path("disputes/<int:dispute_id>/", views_disputes.dispute_detail, name="dispute"),
    path("disputes/<int:dispute_id>/answer/", views_disputes.dispute_answer, name="dispute_answer"),
]
