"""Transactions carry their business day (Asia/Shanghai), filled here for existing rows in one UPDATE.

Settlement groups a day by `business_date` through one covering index instead of a time range, and a
transaction's settled state becomes a property of its merchant's batch for that day (settlement 0003,
money 0006). The indexes on occurred_at and on (merchant, occurred_at) give way to one on (merchant,
business_date, type, amounts): it serves the foreign key, per-merchant queries and the settlement's
aggregate, which reads only it; every query by day now uses business_date. Ingest pays for each
index on each row, so this is one index fewer than before.
SQLite stores times as UTC text, so its day is date(occurred_at, '+8 hours'): Asia/Shanghai has kept
UTC+8 without daylight saving since 1991.
"""

from django.db import migrations, models


def fill_business_date(apps, schema_editor):  # type: ignore[no-untyped-def]
    vendor = schema_editor.connection.vendor
    table = "money_transaction"
    if vendor == "postgresql":
        schema_editor.execute(
            f"UPDATE {table} SET business_date = (occurred_at AT TIME ZONE 'Asia/Shanghai')::date"
        )
    elif vendor == "sqlite":
        schema_editor.execute(f"UPDATE {table} SET business_date = date(occurred_at, '+8 hours')")
    else:
        from zoneinfo import ZoneInfo

        shanghai = ZoneInfo("Asia/Shanghai")
        Transaction = apps.get_model("money", "Transaction")
        for pk, at in Transaction.objects.values_list("pk", "occurred_at").iterator():
            Transaction.objects.filter(pk=pk).update(business_date=at.astimezone(shanghai).date())


class Migration(migrations.Migration):
    dependencies = [
        ("money", "0004_lean_transaction_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="transaction",
            name="business_date",
            field=models.DateField(null=True),
        ),
        migrations.RunPython(fill_business_date, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="transaction",
            name="business_date",
            field=models.DateField(),
        ),
        migrations.RemoveIndex(model_name="transaction", name="tx_time_idx"),
        migrations.RemoveIndex(model_name="transaction", name="tx_merchant_time_idx"),
        migrations.AddIndex(
            model_name="transaction",
            index=models.Index(
                fields=["merchant", "business_date", "type", "amount_fen", "fee_fen", "net_fen"],
                name="tx_merchant_day_idx",
            ),
        ),
    ]
