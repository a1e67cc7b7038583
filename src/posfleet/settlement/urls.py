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

# A merchant's money page (under console/money/, in the money namespace): its transactions show their
# settlement, so settlement serves it; `posfleet.urls` mounts it with money's pages.
money_urlpatterns = [
    path("merchants/<int:merchant_id>/", views.merchant_money, name="merchant"),
]
