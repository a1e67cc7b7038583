import pytest
from django.core.cache import cache

from posfleet.accounts.models import ApiToken, MerchantUser
from tests import builders as b
from tests.notices.builders import letter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def _auth(role="admin"):
    _token, raw = ApiToken.issue(b.user(role=role), "t")
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_verify_genuine_and_false_without_login(client):
    n = letter(b.merchant(), language="en", title="Confirmation letter")
    r = client.get("/api/v1/notices/verify", {"code": n.code, "phone_last4": "8000"})
    assert r.status_code == 200
    assert r.json()["genuine"] is True
    assert r.json()["summary"]["title"] == "Confirmation letter"
    r = client.get("/api/v1/notices/verify", {"code": n.code, "phone_last4": "0000"})
    assert r.json() == {"genuine": False, "message": r.json()["message"]}
    r = client.get("/api/v1/notices/verify")
    assert r.status_code == 200 and r.json()["genuine"] is False


def test_verify_is_rate_limited_per_client_ip(client, settings):
    settings.POSFLEET_VERIFY_RATE_PER_MINUTE = 3
    for _ in range(3):
        assert client.get("/api/v1/notices/verify", {"code": "x", "phone_last4": "1"}).status_code == 200
    r = client.get("/api/v1/notices/verify", {"code": "x", "phone_last4": "1"})
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "rate_limited"
    other = client.get("/api/v1/notices/verify", {"code": "x"}, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_staff_list_and_pdf(client):
    m = b.merchant()
    n = letter(m)
    auth = _auth()
    r = client.get("/api/v1/notices", {"merchant_id": m.pk}, **auth)
    assert r.status_code == 200
    assert [i["id"] for i in r.json()["items"]] == [n.pk]
    assert n.code not in r.content.decode()
    pdf = client.get(f"/api/v1/notices/{n.pk}/pdf", **auth)
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and pdf["X-Content-SHA256"] == n.pdf_sha256
    assert client.get("/api/v1/notices").status_code == 401
    assert client.get("/api/v1/notices/999999/pdf", **auth).status_code == 404


def test_portal_user_sees_only_own_notices(client):
    mine, other = b.merchant(), b.merchant()
    own = letter(mine)
    theirs = letter(other)
    u = b.user(role="agent")
    u.groups.clear()
    MerchantUser.objects.create(user=u, merchant=mine)
    _token, raw = ApiToken.issue(u, "portal")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    r = client.get("/api/v1/notices", {"merchant_id": other.pk}, **auth)
    assert [i["id"] for i in r.json()["items"]] == [own.pk]
    assert client.get(f"/api/v1/notices/{theirs.pk}/pdf", **auth).status_code == 404
    assert client.get(f"/api/v1/notices/{own.pk}/pdf", **auth).status_code == 200
