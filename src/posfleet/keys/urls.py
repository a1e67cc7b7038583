from django.urls import path

from posfleet.keys import views

app_name = "keys"

urlpatterns = [
    path("", views.index, name="index"),
    path("destroy/", views.destroy, name="destroy"),
    path("cancel/", views.cancel, name="cancel"),
    path("rekey/", views.rekey, name="rekey"),
]
