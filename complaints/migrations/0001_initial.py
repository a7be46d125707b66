from tortoise import migrations
from tortoise.migrations import operations as ops
from complaints.models import Moderation, Party, PlaceKind, Status
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial'), ('models', '0002_invitations_departments')]

    initial = True

    operations = [
        ops.CreateModel(
            name='CalendarDay',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('day', fields.DateField(unique=True)),
                ('working', fields.BooleanField()),
                ('name', fields.CharField(default='', max_length=30)),
            ],
            options={'table': 'work_calendar_day', 'app': 'complaints', 'pk_attr': 'id', 'table_description': 'A date that breaks the Monday-to-Friday rule: a holiday on a weekday, or a working weekend day.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Category',
            fields=[
                ('code', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=30)),
                ('name', fields.CharField(max_length=30)),
                ('party', fields.CharEnumField(description='PROPERTY: property\nDEPARTMENT: department', enum_type=Party, max_length=10)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('resolve_hours', fields.IntField()),
                ('sort', fields.IntField(default=0)),
            ],
            options={'table': 'complaint_category', 'app': 'complaints', 'pk_attr': 'code', 'table_description': 'One row of the responsibility table: a complaint category and who handles it.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Complaint',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('compound', fields.ForeignKeyField('models.Compound', source_field='compound_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('building', fields.ForeignKeyField('models.Building', source_field='building_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('unit', fields.ForeignKeyField('models.Unit', source_field='unit_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('place_kind', fields.CharEnumField(description='UNIT: unit\nBUILDING: building\nCOMMON: common', enum_type=PlaceKind, max_length=10)),
                ('place_note', fields.CharField(default='', max_length=100)),
                ('category', fields.ForeignKeyField('complaints.Category', source_field='category_id', db_constraint=True, to_field='code', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('text', fields.CharField(max_length=1000)),
                ('anonymous', fields.BooleanField(default=True)),
                ('filer', fields.ForeignKeyField('models.User', source_field='filer_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('complainant', fields.ForeignKeyField('models.User', source_field='complainant_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('status', fields.CharEnumField(default=Status.SUBMITTED, db_index=True, description='SUBMITTED: submitted\nACCEPTED: accepted\nDISPATCHED: dispatched\nIN_PROGRESS: in_progress\nRESOLVED: resolved\nCONFIRMED: confirmed\nREOPENED: reopened\nCLOSED: closed', enum_type=Status, max_length=12)),
                ('moderation', fields.CharEnumField(default=Moderation.PASSED, description='PASSED: passed\nHELD: held\nREJECTED: rejected', enum_type=Moderation, max_length=10)),
                ('moderation_reason', fields.CharField(default='', max_length=200)),
                ('party', fields.CharEnumField(description='PROPERTY: property\nDEPARTMENT: department', enum_type=Party, max_length=10)),
                ('company', fields.ForeignKeyField('models.PropertyCompany', source_field='company_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('department', fields.ForeignKeyField('models.Department', source_field='department_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('version', fields.IntField(default=0)),
                ('stage_entered_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('stage_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('stage_escalated', fields.BooleanField(default=False)),
                ('overdue', fields.BooleanField(default=False)),
                ('escalations', fields.IntField(default=0)),
                ('supporters', fields.IntField(default=0)),
                ('rating', fields.SmallIntField(null=True)),
                ('reopen_count', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('closed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'complaint', 'app': 'complaints', 'indexes': [Index(fields=['compound_id', 'status']), Index(fields=['building_id', 'category_id', 'status'])], 'pk_attr': 'id', 'table_description': 'A complaint or report about a place in a compound, moving through guarded transitions.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Event',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('complaint', fields.ForeignKeyField('complaints.Complaint', source_field='complaint_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.RESTRICT)),
                ('seq', fields.IntField()),
                ('action', fields.CharField(max_length=20)),
                ('from_status', fields.CharField(max_length=12)),
                ('to_status', fields.CharField(max_length=12)),
                ('actor', fields.ForeignKeyField('models.User', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('actor_role', fields.CharField(max_length=30)),
                ('note', fields.CharField(default='', max_length=500)),
                ('photo_ids', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('data', fields.JSONField(default=dict, encoder=JSON_DUMPS, decoder=loads)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'complaint_event', 'app': 'complaints', 'unique_together': (('complaint', 'seq'),), 'pk_attr': 'id', 'table_description': "One step of a complaint's history, never changed once written."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Support',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('complaint', fields.ForeignKeyField('complaints.Complaint', source_field='complaint_id', db_constraint=True, to_field='id', related_name='supports', on_delete=OnDelete.RESTRICT)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'complaint_support', 'app': 'complaints', 'unique_together': (('complaint', 'user'),), 'pk_attr': 'id', 'table_description': 'A resident\'s "me too" on someone else\'s open complaint.'},
            bases=['Model'],
        ),
    ]
