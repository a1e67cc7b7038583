import pytest
from django.contrib.auth.models import User

from tests import builders

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    su = User.objects.create_superuser("root", "root@example.com", "root-pass-123")
    client.force_login(su)
    return client


@pytest.mark.parametrize(
    "url",
    [
        "/admin/registry/terminalmodel/",
        "/admin/registry/contracttemplate/",
        "/admin/registry/merchant/",
        "/admin/registry/terminal/",
        "/admin/lifecycle/hold/",
        "/admin/audit/auditevent/",
        "/admin/accounts/apitoken/",
        "/admin/auth/user/",
        "/admin/auth/group/",
    ],
)
def test_admin_pages_open(admin_client, url):
    assert admin_client.get(url).status_code == 200


def test_merchant_card_masked(admin_client):
    m = builders.merchant(name="Masked Card Shop")
    body = admin_client.get(f"/admin/registry/merchant/{m.pk}/change/").content.decode()
    assert "**** **** **** 0128" in body
    assert builders.VALID_CARD not in body and m.settlement_card_enc not in body
    body = admin_client.get("/admin/registry/merchant/").content.decode()
    assert "0128" in body and builders.VALID_CARD not in body
