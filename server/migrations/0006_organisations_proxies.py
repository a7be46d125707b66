from tortoise import migrations
from tortoise.migrations import operations as ops
from accounts.models import ClaimStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_sessions_in_database')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OrganisationClaim',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('compound', fields.ForeignKeyField('models.Compound', source_field='compound_id', db_constraint=True, to_field='id', related_name='organisation_claims', on_delete=OnDelete.RESTRICT)),
                ('unit', fields.ForeignKeyField('models.Unit', source_field='unit_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('owner', fields.ForeignKeyField('models.Owner', source_field='owner_id', db_constraint=True, to_field='id', related_name='organisation_claims', on_delete=OnDelete.RESTRICT)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='organisation_claims', on_delete=OnDelete.CASCADE)),
                ('representative_name', fields.CharField(max_length=50)),
                ('representative_id_hash', fields.CharField(max_length=64)),
                ('status', fields.CharEnumField(default=ClaimStatus.PENDING, description='PENDING: pending\nAPPROVED: approved\nREJECTED: rejected', enum_type=ClaimStatus, max_length=10)),
                ('decided_by', fields.ForeignKeyField('models.User', source_field='decided_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('reason', fields.CharField(default='', max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'organisation_claim', 'app': 'models', 'indexes': [Index(fields=['compound_id', 'status']), Index(fields=['user_id'])], 'pk_attr': 'id', 'table_description': "An organisation owner's claim (the developer holding unsold units, or any organisation), made by"},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Compound',
            name='follow_majority_basis',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Compound',
            name='follow_majority_changed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
