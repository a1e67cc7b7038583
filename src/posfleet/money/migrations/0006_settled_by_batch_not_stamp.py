"""Transactions no longer carry settlement_batch_id / settled_at: settling a day of 1M rows rewrote
every row (the cost of the run); a transaction is now settled when its merchant's batch for its
business date covers its id (settlement 0003 filled the batches' high-water marks from these stamps)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("money", "0005_transaction_business_date"),
        ("settlement", "0003_batch_max_transaction_id"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="transaction", name="tx_batch_idx"),
        migrations.RemoveField(model_name="transaction", name="settlement_batch_id"),
        migrations.RemoveField(model_name="transaction", name="settled_at"),
    ]
