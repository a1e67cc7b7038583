from django.urls import path

from posfleet.money import views

app_name = "money"

# money:merchant (merchants/<id>/) is settlement's view, added by posfleet.urls: see settlement.urls.

urlpatterns = [
    path("", views.overview, name="overview"),
    path("rate-plans/", views.rate_plans, name="rate_plans"),
]
