from tortoise import migrations
from tortoise.migrations import operations as ops
from orjson import loads
from ratings.rules import CreditPart, CreditSource, InspectionKind, InspectionStatus
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial'), ('models', '0002_invitations_departments'), ('models', '0003_lookup_indexes'), ('models', '0004_owners_per_compound'), ('models', '0005_sessions_in_database'), ('models', '0006_organisations_proxies')]

    initial = True

    operations = [
        ops.CreateModel(
            name='QuarterList',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('quarter', fields.CharField(max_length=6)),
                ('status', fields.CharField(default='draft', max_length=10)),
                ('as_of', fields.DateField()),
                ('rule', fields.CharField(max_length=500)),
                ('k', fields.IntField()),
                ('ranked', fields.IntField()),
                ('computed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('review_note', fields.CharField(default='', max_length=500)),
                ('reviewed_by', fields.ForeignKeyField('models.User', source_field='reviewed_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('published_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('notice_id', fields.IntField(null=True)),
            ],
            options={'table': 'rating_quarter_list', 'app': 'ratings', 'unique_together': (('quarter', 'status'),), 'pk_attr': 'id', 'table_description': 'The red and black lists of one quarter: a draft (recomputed until reviewed), then published'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ListEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('list', fields.ForeignKeyField('ratings.QuarterList', source_field='list_id', db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.CASCADE)),
                ('company', fields.ForeignKeyField('models.PropertyCompany', source_field='company_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('color', fields.CharField(max_length=5)),
                ('rank', fields.IntField()),
                ('rank_from_bottom', fields.IntField()),
                ('score', fields.DecimalField(max_digits=6, decimal_places=2)),
                ('grade', fields.CharField(max_length=3)),
                ('reasons', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'rating_list_entry', 'app': 'ratings', 'unique_together': (('list_id', 'company_id'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Template',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='DAILY: daily\nANNUAL: annual', enum_type=InspectionKind, max_length=10)),
                ('version', fields.IntField()),
                ('name', fields.CharField(max_length=100)),
                ('aspects', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('thresholds', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('created_by', fields.ForeignKeyField('models.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'rating_template', 'app': 'ratings', 'unique_together': (('kind', 'version'),), 'pk_attr': 'id', 'table_description': 'One version of the star-rating template of a kind: the eight aspects with weights and items,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Inspection',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('compound', fields.ForeignKeyField('models.Compound', source_field='compound_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('company', fields.ForeignKeyField('models.PropertyCompany', source_field='company_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('template', fields.ForeignKeyField('ratings.Template', source_field='template_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='DAILY: daily\nANNUAL: annual', enum_type=InspectionKind, max_length=10)),
                ('inspector', fields.ForeignKeyField('models.User', source_field='inspector_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('inspector_role', fields.CharField(max_length=30)),
                ('inspected_on', fields.DateField()),
                ('status', fields.CharEnumField(default=InspectionStatus.DRAFT, description='DRAFT: draft\nSUBMITTED: submitted\nOBJECTED: objected\nFINISHED: finished', enum_type=InspectionStatus, max_length=10)),
                ('total', fields.DecimalField(null=True, max_digits=5, decimal_places=2)),
                ('stars', fields.SmallIntField(null=True)),
                ('aspect_scores', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('satisfaction', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('submitted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('objection_due_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('version', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'rating_inspection', 'app': 'ratings', 'indexes': [Index(fields=['compound_id', 'status']), Index(fields=['company_id', 'status'])], 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CreditRecord',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('company', fields.ForeignKeyField('models.PropertyCompany', source_field='company_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('source', fields.CharEnumField(description='CONTRACT: contract\nCOMPLAINTS: complaints\nINSPECTION: inspection\nSANCTION: sanction\nCOMMENDATION: commendation', enum_type=CreditSource, max_length=15)),
                ('part', fields.CharEnumField(description='BASE: base\nGOOD: good\nBAD: bad', enum_type=CreditPart, max_length=5)),
                ('points', fields.DecimalField(max_digits=6, decimal_places=2)),
                ('reason', fields.CharField(max_length=500)),
                ('valid_from', fields.DateField()),
                ('key', fields.CharField(null=True, max_length=60)),
                ('inspection', fields.ForeignKeyField('ratings.Inspection', source_field='inspection_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('by', fields.ForeignKeyField('models.User', source_field='by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('recorded_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'rating_credit_record', 'app': 'ratings', 'unique_together': (('company_id', 'key'),), 'indexes': [Index(fields=['company_id', 'valid_from'])], 'pk_attr': 'id', 'table_description': 'One credit record of a company: counts from ``valid_from`` for one year. Never updated.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InspectionScore',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('inspection', fields.ForeignKeyField('ratings.Inspection', source_field='inspection_id', db_constraint=True, to_field='id', related_name='scores', on_delete=OnDelete.RESTRICT)),
                ('item_code', fields.CharField(max_length=20)),
                ('points', fields.IntField()),
                ('note', fields.CharField(default='', max_length=500)),
                ('photo_ids', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
            ],
            options={'table': 'rating_inspection_score', 'app': 'ratings', 'unique_together': (('inspection_id', 'item_code'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Objection',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('inspection', fields.OneToOneField('ratings.Inspection', source_field='inspection_id', db_constraint=True, to_field='id', related_name='objection', on_delete=OnDelete.RESTRICT)),
                ('by', fields.ForeignKeyField('models.User', source_field='by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('reasons', fields.CharField(max_length=1000)),
                ('item_codes', fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('upheld', fields.BooleanField(null=True)),
                ('decision_note', fields.CharField(default='', max_length=1000)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'rating_objection', 'app': 'ratings', 'pk_attr': 'id', 'table_description': "The company's one objection (unique per inspection) and the inspector's decision on it."},
            bases=['Model'],
        ),
    ]
