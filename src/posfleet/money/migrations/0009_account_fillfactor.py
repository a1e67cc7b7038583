"""Ledger accounts keep four fifths of each page free on PostgreSQL (fillfactor 20).

Every journal rewrites the balance of each account it posts to: a settlement run rewrites some 600
balances of the same few hundred rows. With full pages the new row versions could not stay on their
page, so each update was a new tuple plus a new entry in all three indexes, and over a month of runs
the table and its indexes grew thirtyfold, every look-up walking the dead entries (a run's balance
update went from 4 to 50 ms). With the room, updates stay on their page (heap-only, no index entry)
and the next run prunes the old versions. Pages written before this keep their rows until the table
is rewritten (`VACUUM FULL money_account`, a moment for a table of accounts).
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
