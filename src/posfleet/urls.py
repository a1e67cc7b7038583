import importlib

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from posfleet.api.main import api

urlpatterns = [
    path("", RedirectView.as_view(url="/console/", permanent=False)),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("django_prometheus.urls")),
]

# Each UI app owns its urls module; one not written yet is skipped.
for prefix, dotted in (
    ("console/", "posfleet.console.urls"),
    ("console/money/", "posfleet.money.urls"),
    ("console/settlement/", "posfleet.settlement.urls"),
    ("console/cases/", "posfleet.cases.urls"),
    ("console/keys/", "posfleet.keys.urls"),
    ("portal/", "posfleet.portal.urls"),
    ("verify/", "posfleet.notices.urls"),
):
    try:
        importlib.import_module(dotted)
    except ModuleNotFoundError as exc:
        if exc.name != dotted:
            raise
        continue
    urlpatterns.append(path(prefix, include(dotted)))
