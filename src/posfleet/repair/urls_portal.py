from django.urls import path

from posfleet.repair import views_portal as views

app_name = "portal_repair"

urlpatterns = [
    path("", views.repair_list, name="list"),
    path("report/", views.report, name="report"),
    path("<int:order_id>/", views.order_page, name="order"),
    path("<int:order_id>/decide/", views.decide, name="decide"),
    path("evidence/<int:evidence_id>/", views.evidence, name="evidence"),
]
