from django.urls import path

from posfleet.settlement import views

app_name = "settlement"

urlpatterns = [
    path("", views.run_page, name="run"),
    path("merchants/<int:merchant_id>/", views.merchant_page, name="merchant"),
    path("merchants/<int:merchant_id>/statement.csv", views.statement_csv, name="statement"),
    path("disputes/", views.disputes_queue, name="disputes"),
    path("disputes/<int:dispute_id>/", views.dispute_page, name="dispute"),
    path("documents/<int:document_id>/", views.document, name="document"),
]
