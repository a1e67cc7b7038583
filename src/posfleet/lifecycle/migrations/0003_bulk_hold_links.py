"""Bulk holds: one hold on many terminals, linked by narrow `HoldTerminal` rows."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lifecycle", "0002_lean_hold_indexes"),
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="hold", name="hold_target_one"),
        migrations.AddField(
            model_name="hold",
            name="bulk",
            field=models.BooleanField(
                default=False, help_text="Placed on many terminals at once: its terminals are its links"
            ),
        ),
        migrations.AddConstraint(
            model_name="hold",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("bulk", False),
                        ("merchant__isnull", False),
                        ("on_merchant", True),
                        ("terminal__isnull", True),
                    ),
                    models.Q(("bulk", False), ("on_merchant", False), ("terminal__isnull", False)),
                    models.Q(("bulk", True), ("on_merchant", False), ("terminal__isnull", True)),
                    _connector="OR",
                ),
                name="hold_target_one",
            ),
        ),
        migrations.CreateModel(
            name="HoldTerminal",
            fields=[
                (
                    "terminal",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="hold_links",
                        to="registry.terminal",
                    ),
                ),
                (
                    "hold",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="links",
                        to="lifecycle.hold",
                    ),
                ),
                ("released_at", models.DateTimeField(blank=True, null=True)),
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "terminal_id",
                        "hold_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
            ],
            options={
                "verbose_name": "terminal under a bulk hold",
                "indexes": [models.Index(fields=["hold", "terminal"], name="holdterminal_hold_idx")],
            },
        ),
    ]
