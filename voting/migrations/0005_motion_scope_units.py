from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial'), ('models', '0002_invitations_departments'), ('models', '0003_lookup_indexes'), ('models', '0004_owners_per_compound'), ('models', '0005_sessions_in_database'), ('models', '0006_organisations_proxies'), ('voting', '0004_proxy_invitations')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Motion',
            name='scope_units',
            field=fields.JSONField(default=list, db_default='[]', encoder=JSON_DUMPS, decoder=loads),
        ),
    ]
