from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0003_lean_event_indexes")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="batch_seq",
            field=models.BigIntegerField(
                blank=True, help_text="The seq of the first event of the same bulk change.", null=True
            ),
        ),
    ]
