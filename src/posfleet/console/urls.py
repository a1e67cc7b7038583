from django.urls import path

from posfleet.console import views_auth, views_dashboard

app_name = "console"

urlpatterns = [
    path("", views_dashboard.dashboard, name="dashboard"),
    path("login/", views_auth.ConsoleLoginView.as_view(), name="login"),
    path("logout/", views_auth.logout_view, name="logout"),
    path("step-up/", views_auth.step_up, name="step_up"),
]
