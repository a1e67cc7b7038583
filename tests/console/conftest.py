import pytest
from django.conf import settings


@pytest.fixture
def en_client(client):
    """A test client whose language cookie says English (the console's default is Chinese)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def staff_client(en_client, db):
    from tests import builders

    u = builders.user("opadmin", "admin")
    en_client.force_login(u)
    en_client.user = u
    return en_client
