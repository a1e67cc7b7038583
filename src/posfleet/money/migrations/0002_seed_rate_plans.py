"""Ship the two seed plans (DESIGN.md §1) and put any existing merchant on STANDARD."""

from django.db import migrations
from django.utils import timezone

from posfleet.money.migrations._shipped import PLANS


def seed(apps, schema_editor):
    RatePlan = apps.get_model("money", "RatePlan")
    MerchantPlan = apps.get_model("money", "MerchantPlan")
    Merchant = apps.get_model("registry", "Merchant")
    for data in PLANS:
        RatePlan.objects.update_or_create(code=data["code"], defaults=data)
    standard = RatePlan.objects.get(code="STANDARD")
    now = timezone.now()
    have = set(MerchantPlan.objects.values_list("merchant_id", flat=True))
    MerchantPlan.objects.bulk_create(
        [
            MerchantPlan(merchant_id=mid, plan=standard, effective_from=now, created_by="migration")
            for mid in Merchant.objects.exclude(pk__in=have).values_list("pk", flat=True)
        ]
    )


def unseed(apps, schema_editor):
    apps.get_model("money", "MerchantPlan").objects.filter(created_by="migration").delete()


class Migration(migrations.Migration):
    dependencies = [("money", "0001_initial"), ("registry", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
