from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from posfleet.core.errors import ValidationFailed
from posfleet.money import plans
from posfleet.money.models import MerchantPlan, PlanNotice
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


def fin():
    return builders.actor("finance")


class TestChangePlan:
    def test_decrease_immediate(self):
        m = builders.merchant()
        with transaction.atomic():
            MerchantPlan.objects.filter(merchant=m).update(plan=plans.get_plan("CLASSIC"))
        # CLASSIC → a cheaper plan on every channel
        cheap = plans.get_plan("STANDARD")
        cheap.pk = None
        cheap.code = "CHEAP"
        cheap.debit_cap_fen = 1500
        cheap.save()
        with transaction.atomic():
            change = plans.change_plan(fin(), m.pk, "CHEAP")
        assert not change.increase
        assert plans.plan_at(m.pk).code == "CHEAP"

    def test_classic_to_standard_is_an_increase_because_of_the_cap(self):
        m = builders.merchant()
        with transaction.atomic():
            MerchantPlan.objects.filter(merchant=m).update(plan=plans.get_plan("CLASSIC"))
        assert not plans.is_decrease(plans.get_plan("CLASSIC"), plans.get_plan("STANDARD"))
        with pytest.raises(ValidationFailed, match="notify"), transaction.atomic():
            plans.change_plan(fin(), m.pk, "STANDARD")

    def test_increase_needs_notice(self):
        m = builders.merchant()
        with pytest.raises(ValidationFailed) as exc, transaction.atomic():
            plans.change_plan(fin(), m.pk, "CLASSIC", timezone.now() + timedelta(days=40))
        assert exc.value.status == 422
        assert "notify the merchant first" in str(exc.value.message)

    def test_increase_sooner_than_30_days_refused(self):
        m = builders.merchant()
        with transaction.atomic():
            notice = plans.notify_increase(fin(), m.pk, "CLASSIC")
        too_soon = notice.notified_at + timedelta(days=30) - timedelta(minutes=1)
        with pytest.raises(ValidationFailed) as exc, transaction.atomic():
            plans.change_plan(fin(), m.pk, "CLASSIC", too_soon)
        assert "30 days" in str(exc.value.message)
        assert "effective_from" in exc.value.details
        with pytest.raises(ValidationFailed), transaction.atomic():
            plans.change_plan(fin(), m.pk, "CLASSIC")  # immediate

    def test_increase_at_30_days_accepted_and_versioned(self):
        m = builders.merchant()
        with transaction.atomic():
            notice = plans.notify_increase(fin(), m.pk, "CLASSIC")
        at = notice.notified_at + timedelta(days=30)
        with transaction.atomic():
            change = plans.change_plan(fin(), m.pk, "CLASSIC", at)
        assert change.increase
        assert change.version.notified_at == notice.notified_at
        assert plans.plan_at(m.pk, at - timedelta(seconds=1)).code == "STANDARD"
        assert plans.plan_at(m.pk, at).code == "CLASSIC"
        assert [v.plan.code for v in plans.versions(m.pk)] == ["STANDARD", "CLASSIC"]
        index = plans.PlanIndex([m.pk])
        assert index.at(m.pk, at - timedelta(seconds=1)).code == "STANDARD"
        assert index.at(m.pk, at + timedelta(days=1)).code == "CLASSIC"
        assert index.at(m.pk, at - timedelta(days=400)).code == "STANDARD"

    def test_past_refused(self):
        m = builders.merchant()
        with pytest.raises(ValidationFailed), transaction.atomic():
            plans.change_plan(fin(), m.pk, "CLASSIC", timezone.now() - timedelta(days=1))

    def test_same_plan_refused(self):
        m = builders.merchant()
        with pytest.raises(ValidationFailed), transaction.atomic():
            plans.change_plan(fin(), m.pk, "STANDARD")

    def test_unknown_plan(self):
        m = builders.merchant()
        with pytest.raises(ValidationFailed) as exc, transaction.atomic():
            plans.change_plan(fin(), m.pk, "GOLD")
        assert "code" in exc.value.details

    def test_notice_recorded_and_audited(self):
        from posfleet.audit.models import AuditEvent

        m = builders.merchant()
        with transaction.atomic():
            plans.notify_increase(fin(), m.pk, "CLASSIC")
        assert PlanNotice.objects.filter(merchant=m, plan__code="CLASSIC").exists()
        assert AuditEvent.objects.filter(action="rate_plan.notify", object_id=str(m.pk)).exists()

    def test_notice_goes_out_on_the_merchants_channels(self):
        from posfleet.notices.models import Delivery

        m = builders.merchant()
        Merchant.objects.filter(pk=m.pk).update(email="shop@example.com")
        with transaction.atomic():
            notice = plans.notify_increase(fin(), m.pk, "CLASSIC")
        sent = dict(Delivery.objects.filter(notice_id=notice.notice_id).values_list("channel", "recipient"))
        assert sent == {"portal": "", "sms": "13800138000", "email": "shop@example.com"}

    def test_needs_permission(self):
        from posfleet.core.errors import PermissionDenied

        m = builders.merchant()
        with pytest.raises(PermissionDenied), transaction.atomic():
            plans.change_plan(builders.actor("agent"), m.pk, "CLASSIC")
