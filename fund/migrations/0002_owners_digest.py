from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('fund', '0001_initial'), ('models', '0001_initial'), ('models', '0002_invitations_departments'), ('models', '0003_lookup_indexes'), ('models', '0004_owners_per_compound'), ('models', '0005_sessions_in_database'), ('models', '0006_organisations_proxies')]

    initial = False

    operations = [
        ops.AddField(
            model_name='SubAccount',
            name='owners_digest',
            field=fields.CharField(null=True, max_length=64),
        ),
    ]
