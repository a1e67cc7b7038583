from django.urls import path

from posfleet.console import views_auth, views_dashboard, views_terminals

app_name = "console"

urlpatterns = [
    path("", views_dashboard.dashboard, name="dashboard"),
    path("login/", views_auth.ConsoleLoginView.as_view(), name="login"),
    path("logout/", views_auth.logout_view, name="logout"),
    path("step-up/", views_auth.step_up, name="step_up"),
    path("terminals/", views_terminals.terminal_list, name="terminals"),
    path("terminals/bulk/", views_terminals.bulk_start, name="bulk_start"),
    path("terminals/bulk/<str:key>/", views_terminals.bulk_confirm, name="bulk_confirm"),
]
