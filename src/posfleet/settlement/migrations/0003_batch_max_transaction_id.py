"""Batches record the high-water mark they cover, filled from the stamps on the transactions.

Before this, each settled transaction carried its batch id; the largest id stamped with a batch is
exactly what the batch covers (the old run stamped every row of the merchant's day up to the run's
largest id, and rows arriving later have larger ids). money 0006 then drops the stamps. Going back
stamps the rows again from the high-water marks.
"""

from django.db import migrations, models

FORWARD = """
UPDATE settlement_settlementbatch SET max_transaction_id = COALESCE(
    (SELECT MAX(t.id) FROM money_transaction t WHERE t.settlement_batch_id = settlement_settlementbatch.id), 0)
"""
BACKWARD = """
UPDATE money_transaction SET
    settlement_batch_id = (SELECT b.id FROM settlement_settlementbatch b
        WHERE b.merchant_id = money_transaction.merchant_id AND b.business_date = money_transaction.business_date
        AND b.max_transaction_id >= money_transaction.id),
    settled_at = (SELECT b.created_at FROM settlement_settlementbatch b
        WHERE b.merchant_id = money_transaction.merchant_id AND b.business_date = money_transaction.business_date
        AND b.max_transaction_id >= money_transaction.id)
"""


class Migration(migrations.Migration):
    dependencies = [
        ("settlement", "0002_disputehold"),
        ("money", "0005_transaction_business_date"),
    ]

    operations = [
        migrations.AddField(
            model_name="settlementbatch",
            name="max_transaction_id",
            field=models.BigIntegerField(
                default=0, help_text="Covers the merchant's transactions of the day with an id up to this"
            ),
        ),
        migrations.RunSQL(FORWARD, BACKWARD),
    ]
