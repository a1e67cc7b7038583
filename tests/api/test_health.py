import pytest


@pytest.mark.django_db
def test_health_is_open_and_ok(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
