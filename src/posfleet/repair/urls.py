from django.urls import path

from posfleet.repair import views

app_name = "repair"

urlpatterns = [
    path("", views.index, name="index"),
    path("report/", views.report, name="report"),
    path("<int:order_id>/", views.order_page, name="order"),
    path("<int:order_id>/act/", views.act, name="act"),
    path("<int:order_id>/lend/", views.lend, name="lend"),
    path("loaners/", views.loaner_list, name="loaners"),
    path("loaners/return/", views.loaner_return, name="loaner_return"),
    path("inspections/", views.inspections, name="inspections"),
    path("stats/", views.stats, name="stats"),
    path("figures/", views.figures, name="figures"),
    path("terminals/<str:tid>/", views.terminal_history, name="terminal"),
    path("terminals/<str:tid>/swap/", views.swap, name="swap"),
    path("evidence/<int:evidence_id>/", views.evidence, name="evidence"),
]
