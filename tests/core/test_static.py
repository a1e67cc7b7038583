"""The app serves its own static files with DEBUG off: hashed names, compressed copies, cached for ever."""

from __future__ import annotations

import re

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import Client

pytestmark = pytest.mark.django_db

MANIFEST = {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}


def test_collected_files_are_served_hashed_compressed_and_cached(settings, tmp_path):
    settings.DEBUG = False
    settings.STATIC_ROOT = tmp_path / "static"
    settings.STORAGES = {**settings.STORAGES, "staticfiles": MANIFEST}
    call_command("collectstatic", interactive=False, verbosity=0)

    url = staticfiles_storage.url("posfleet/app.css")
    assert re.fullmatch(r"/static/posfleet/app\.[0-9a-f]{12}\.css", url)

    client = Client()  # a new handler: WhiteNoise indexes STATIC_ROOT when it starts
    page = client.get("/console/login/")
    assert url in page.content.decode()
    r = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r["Content-Encoding"] == "gzip"
    assert "immutable" in r["Cache-Control"] and "max-age=315360000" in r["Cache-Control"]
    assert client.get("/static/posfleet/app.css").status_code == 200  # the unhashed name, briefly cached
    assert client.get("/static/posfleet/nope.css").status_code == 404
