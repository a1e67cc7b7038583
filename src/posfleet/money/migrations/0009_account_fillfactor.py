"""Ledger accounts keep four fifths of each page free on PostgreSQL (fillfactor 20).

Every journal rewrites the balance of each account it posts to: a settlement run rewrites some 600
balances of the same few hundred rows. With full pages the new row versions cannot stay on their
page, so every update was a new tuple plus an entry in each of the three indexes: over 29 runs (200
merchants) none of 17,284 updates was heap-only, the table grew from 4 to 148 pages and its indexes
to 21-23, and a run's two balance updates took 42 ms. With the room the updates stay on their page
(no index entry) and the next run prunes the old versions: all 17,284 heap-only and 18 pages in one
run, 14,156 with indexes of 7-10 pages in another (a long transaction open beside it holding back
the pruning), 12 ms. Pages written before this keep their rows until the table is rewritten
(`VACUUM FULL money_account`, a moment for a table of accounts).
"""

from django.db import migrations


def _fillfactor(value: int):  # type: ignore[no-untyped-def]
    def apply(apps, schema_editor):  # type: ignore[no-untyped-def]
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE money_account SET (fillfactor = {value})")

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("money", "0008_day_totals"),
    ]

    operations = [
        migrations.RunPython(_fillfactor(20), _fillfactor(100)),
    ]
