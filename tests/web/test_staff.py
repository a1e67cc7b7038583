import pytest
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.http import HttpResponse

from posfleet.core.errors import Conflict, NotFound, StepUpRequired, ValidationFailed
from posfleet.web.staff import domain_errors, error_text, staff_view
from tests import builders

pytestmark = pytest.mark.django_db


def _request(rf, method="get", path="/console/x/", **headers):
    request = getattr(rf, method)(path, **headers)
    request.user = builders.user("", "admin")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


class TestDomainErrors:
    def test_error_becomes_page_with_status(self, rf):
        @domain_errors
        def view(request):
            raise Conflict("busy", code="busy")

        response = view(_request(rf))
        assert response.status_code == 409

    @pytest.mark.parametrize("exc, status", [(NotFound(), 404), (ValidationFailed(), 422)])
    def test_statuses(self, rf, exc, status):
        @domain_errors()
        def view(request):
            raise exc

        assert view(_request(rf)).status_code == status

    def test_step_up_redirects_back_to_the_page(self, rf):
        @domain_errors
        def view(request):
            raise StepUpRequired()

        response = view(_request(rf, path="/console/keys/?a=1"))
        assert response.status_code == 302
        assert response["Location"] == "/console/step-up/?next=%2Fconsole%2Fkeys%2F%3Fa%3D1"

    def test_step_up_after_post_returns_to_referer(self, rf):
        @domain_errors
        def view(request):
            raise StepUpRequired()

        request = _request(rf, "post", "/console/keys/1/do/", HTTP_REFERER="/console/keys/1/")
        assert view(request)["Location"] == "/console/step-up/?next=%2Fconsole%2Fkeys%2F1%2F"

    def test_htmx_step_up_uses_hx_redirect(self, rf):
        @domain_errors
        def view(request):
            raise StepUpRequired()

        response = view(_request(rf, HTTP_HX_REQUEST="true"))
        assert response.status_code == 204 and response["HX-Redirect"].startswith("/console/step-up/")

    def test_error_text_lists_field_details(self):
        text = error_text(ValidationFailed(details={"reason": ["This field is required."]}))
        assert "Reason: This field is required." in text  # the field by its label, not its code


class TestStaffView:
    def test_perm_argument(self, rf):
        @staff_view(perm="destroy_keys")
        def view(request):
            return HttpResponse("ok")

        request = _request(rf)
        request.user = builders.user("", "technician")
        assert view(request).status_code == 403
        request.user = builders.user("", "custodian")
        assert view(request).status_code == 200
