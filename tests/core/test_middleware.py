import pytest
from django.test import Client


@pytest.mark.django_db
class TestLanguage:
    def test_pages_are_chinese_even_for_an_english_browser(self):
        response = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").get("/console/login/")
        assert response.status_code == 200
        assert response.headers["Content-Language"] == "zh-hans"

    def test_the_remembered_choice_wins(self):
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-CN")
        client.cookies["django_language"] = "en"
        response = client.get("/console/login/")
        assert response.headers["Content-Language"] == "en"

    def test_api_clients_may_ask_for_english(self):
        response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/api/v1/terminals")
        assert response.status_code == 401
        assert response.headers["Content-Language"] == "en"

    def test_api_defaults_to_chinese(self):
        response = Client().get("/api/v1/terminals")
        assert response.headers["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_every_response_has_a_request_id(client):
    assert client.get("/api/v1/health").headers["X-Request-Id"]
