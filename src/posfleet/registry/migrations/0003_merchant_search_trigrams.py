"""PostgreSQL: trigram indexes for the merchant searches (name or contact contains; phone or licence
number equal to or starting with), so that a search at 200,000 merchants reads index entries instead
of every merchant. The expressions are the ones Django writes for icontains (UPPER(col::text)) and
for exact / startswith on the plain column. SQLite has no such index type and keeps its scans."""

from django.db import migrations

INDEXES = {
    "merchant_name_trgm": "UPPER(name::text) gin_trgm_ops",
    "merchant_contact_trgm": "UPPER(contact_name::text) gin_trgm_ops",
    "merchant_phone_trgm": "phone gin_trgm_ops",
    "merchant_licence_trgm": "licence_no gin_trgm_ops",
}


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expr in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON registry_merchant USING gin ({expr})")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_repair_fields")]

    operations = [migrations.RunPython(forwards, backwards)]
