from django.urls import path

from posfleet.money import views

app_name = "money"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("rate-plans/", views.rate_plans, name="rate_plans"),
    path("merchants/<int:merchant_id>/", views.merchant_money, name="merchant"),
]
