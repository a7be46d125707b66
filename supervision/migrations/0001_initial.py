from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('complaints', '0001_initial'), ('models', '0001_initial'), ('models', '0002_invitations_departments'), ('models', '0003_lookup_indexes'), ('models', '0004_owners_per_compound'), ('models', '0005_sessions_in_database'), ('models', '0006_organisations_proxies')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Patrol',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('compound', fields.ForeignKeyField('models.Compound', source_field='compound_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('community', fields.ForeignKeyField('models.Community', source_field='community_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('worker', fields.ForeignKeyField('models.User', source_field='worker_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('ended_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('route', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('note', fields.CharField(default='', max_length=500)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'patrol', 'app': 'supervision', 'indexes': [Index(fields=['community_id', 'started_at']), Index(fields=['compound_id', 'started_at']), Index(fields=['worker_id', 'started_at'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Finding',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('patrol', fields.ForeignKeyField('supervision.Patrol', source_field='patrol_id', db_constraint=True, to_field='id', related_name='findings', on_delete=OnDelete.RESTRICT)),
                ('seq', fields.SmallIntField()),
                ('text', fields.CharField(max_length=500)),
                ('place_note', fields.CharField(default='', max_length=100)),
                ('building', fields.ForeignKeyField('models.Building', source_field='building_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('complaint', fields.ForeignKeyField('complaints.Complaint', source_field='complaint_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('escalating', fields.BooleanField(default=False)),
            ],
            options={'table': 'patrol_finding', 'app': 'supervision', 'unique_together': (('patrol', 'seq'),), 'pk_attr': 'id', 'table_description': 'One problem seen on a patrol, with its photos attached to ``finding:<id>``.'},
            bases=['Model'],
        ),
    ]
