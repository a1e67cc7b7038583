import pytest
from django.core.cache import cache

from tests import builders as b
from tests.notices.builders import letter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_public_page_without_login(client):
    r = client.get("/verify/")
    assert r.status_code == 200
    assert "verify-form" in r.content.decode()


def test_public_page_says_genuine_or_warns(client):
    m = b.merchant(name="Acme Tea")
    n = letter(m, language="en", title="Confirmation letter")
    r = client.post("/verify/", {"code": n.code, "phone_last4": "8000"})
    text = r.content.decode()
    assert r.status_code == 200 and "Genuine" in text and "Acme Tea" in text and "Confirmation letter" in text
    r = client.post("/verify/", {"code": n.code, "phone_last4": "9999"})
    text = r.content.decode()
    assert "Not genuine" in text and "Acme Tea" not in text


def test_public_page_is_rate_limited(client, settings):
    settings.POSFLEET_VERIFY_RATE_PER_MINUTE = 2
    for _ in range(2):
        assert client.post("/verify/", {"code": "A", "phone_last4": "1"}).status_code == 200
    assert client.post("/verify/", {"code": "A", "phone_last4": "1"}).status_code == 429


def test_public_page_speaks_chinese_by_default(client):
    from django.conf import settings as dj

    client.cookies.pop(dj.LANGUAGE_COOKIE_NAME, None)
    n = letter(b.merchant(), title="确认函")
    text = client.post("/verify/", {"code": n.code, "phone_last4": "8000"}).content.decode()
    assert 'lang="zh-hans"' in text and "确认函" in text


def test_the_hotline_setting_is_printed_on_the_verify_page_and_in_its_warning(client, settings):
    from posfleet.notices import letters, services

    settings.POSFLEET_HOTLINE = "95123"
    body = client.get("/verify/").content.decode()
    assert "95123" in body
    assert "95123" in services.not_genuine_message()
    assert letters.hotline() == "95123"
