import pytest
from django.db import transaction

from posfleet.core.errors import ValidationFailed
from posfleet.money import plans
from posfleet.registry.models import Merchant
from posfleet.registry.services import MerchantInput, create_merchant
from tests import builders

pytestmark = pytest.mark.django_db


def _input(**kw):
    return MerchantInput(kind="individual", name="Shop", contact_name="Li Si", phone="13800138000", **kw)


class TestInitialPlan:
    def test_default_standard(self):
        m = builders.merchant()
        assert plans.plan_at(m.pk).code == "STANDARD"

    def test_requested_classic(self):
        with transaction.atomic():
            m = create_merchant(builders.actor("admin"), _input(rate_plan="CLASSIC"))
        assert plans.plan_at(m.pk).code == "CLASSIC"

    def test_unknown_plan_rolls_back_merchant(self):
        with pytest.raises(ValidationFailed) as exc, transaction.atomic():
            create_merchant(builders.actor("admin"), _input(rate_plan="GOLD"))
        assert "rate_plan" in exc.value.details
        assert not Merchant.objects.filter(name="Shop").exists()
