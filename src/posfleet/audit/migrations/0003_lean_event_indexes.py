"""Audit events keep two indexes: drop the unique index on `hash` and the one on `occurred_at` (neither
is ever searched; every index is paid on each audited change), and make `seq` the rowid on SQLite."""

from django.db import migrations, models

import posfleet.audit.models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0002_append_only_trigger"),
    ]

    operations = [
        migrations.AlterField(
            model_name="auditevent",
            name="hash",
            field=models.CharField(max_length=64),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="occurred_at",
            field=models.DateTimeField(),
        ),
        migrations.AlterField(
            model_name="auditevent",
            name="seq",
            field=posfleet.audit.models.ChainSeqField(primary_key=True, serialize=False),
        ),
    ]
