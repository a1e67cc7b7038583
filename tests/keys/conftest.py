import pytest
from django.conf import settings


@pytest.fixture
def client(client):
    """Pages in English: the language cookie is what the pages honour (they default to zh-hans)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client
