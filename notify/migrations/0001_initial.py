from tortoise import migrations
from tortoise.migrations import operations as ops
from notify.models import ConsentStatus, State
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial'), ('models', '0002_invitations_departments'), ('models', '0003_lookup_indexes'), ('models', '0004_owners_per_compound'), ('models', '0005_sessions_in_database'), ('models', '0006_organisations_proxies')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Consent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('template_id', fields.CharField(max_length=64)),
                ('status', fields.CharEnumField(description='ACCEPT: accept\nREJECT: reject\nBAN: ban', enum_type=ConsentStatus, max_length=10)),
                ('remaining', fields.IntField(default=0)),
                ('always', fields.BooleanField(default=False)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notify_consent', 'app': 'notify', 'unique_together': (('user', 'template_id'),), 'pk_attr': 'id', 'table_description': 'How many sends a user has authorised for one template: one accept is one send, and an always'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='JobState',
            fields=[
                ('name', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('period', fields.BigIntField(default=-1)),
                ('runs', fields.IntField(default=0)),
                ('failures', fields.IntField(default=0)),
                ('total_failures', fields.IntField(default=0)),
                ('last_error', fields.CharField(default='', max_length=500)),
                ('last_started_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notify_job_state', 'app': 'notify', 'pk_attr': 'name', 'table_description': 'One row per periodic job: the period last claimed (a conditional UPDATE, so one run per period'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=160)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('event', fields.CharField(max_length=40)),
                ('template_id', fields.CharField(max_length=64)),
                ('title', fields.CharField(max_length=40)),
                ('summary', fields.CharField(max_length=200)),
                ('data', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('page', fields.CharField(max_length=200)),
                ('state', fields.CharEnumField(default=State.PENDING, description='PENDING: pending\nCLAIMED: claimed\nSENDING: sending\nSENT: sent\nNO_CONSENT: no_consent\nFAILED: failed', enum_type=State, max_length=12)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('claimed_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('claimed_by', fields.CharField(default='', max_length=16)),
                ('last_error', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('read_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notify_notification', 'app': 'notify', 'indexes': [Index(fields=['state', 'next_attempt_at']), Index(fields=['user_id', 'id'])], 'pk_attr': 'id', 'table_description': 'One notification of one event to one user: the outbox row (written in the transaction of the'},
            bases=['Model'],
        ),
    ]
