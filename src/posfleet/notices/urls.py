from django.urls import path

from posfleet.notices import views

app_name = "notices"

urlpatterns = [path("", views.verify_page, name="verify")]
