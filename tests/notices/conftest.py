import pytest


@pytest.fixture
def client(client):
    """Pages in English (the middleware would otherwise pick the default zh-hans)."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client
