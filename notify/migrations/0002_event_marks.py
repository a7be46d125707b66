from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial'), ('models', '0002_invitations_departments'), ('models', '0003_lookup_indexes'), ('models', '0004_owners_per_compound'), ('models', '0005_sessions_in_database'), ('models', '0006_organisations_proxies'), ('notify', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='EventMark',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=160)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notify_event_mark', 'app': 'notify', 'pk_attr': 'id', 'table_description': 'That a one-off event about a subject was published (e.g. "motion.closing_soon:motion:7"), for'},
            bases=['Model'],
        ),
    ]
