from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from posfleet.api.main import api
from posfleet.api.metrics import metrics
from posfleet.money import urls as money_urls
from posfleet.settlement import urls as settlement_urls

# The money pages, and a merchant's money page, which settlement serves (it shows what is settled).
money_patterns = [*money_urls.urlpatterns, *settlement_urls.money_urlpatterns]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="console:dashboard", permanent=False)),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("metrics", metrics, name="prometheus-django-metrics"),
    path("console/", include("posfleet.console.urls")),
    path("console/money/", include((money_patterns, money_urls.app_name))),
    path("console/settlement/", include("posfleet.settlement.urls")),
    path("console/cases/", include("posfleet.cases.urls")),
    path("console/keys/", include("posfleet.keys.urls")),
    path("console/notices/", include("posfleet.notices.console_urls")),
    path("console/repair/", include("posfleet.repair.urls")),
    path("portal/repairs/", include("posfleet.repair.urls_portal")),
    path("portal/", include("posfleet.portal.urls")),
    path("verify/", include("posfleet.notices.urls")),
]
