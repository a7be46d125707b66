from tortoise import migrations
from tortoise.migrations import operations as ops
from accounts.models import ContactKind
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_organisations_proxies')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CompoundContact',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('compound', fields.ForeignKeyField('models.Compound', source_field='compound_id', db_constraint=True, to_field='id', related_name='contacts', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='PROJECT_MANAGER: project_manager\nCOMPLAINT: complaint\nSERVICE: service\nCOMMITTEE: committee\nCOMMUNITY: community\nGRID_WORKER: grid_worker', enum_type=ContactKind, max_length=20)),
                ('name', fields.CharField(default='', max_length=20)),
                ('phone', fields.CharField(max_length=24)),
                ('company', fields.ForeignKeyField('models.PropertyCompany', source_field='company_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('committee', fields.ForeignKeyField('models.Committee', source_field='committee_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('set_by', fields.ForeignKeyField('models.User', source_field='set_by_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.SET_NULL)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'compound_contact', 'app': 'models', 'unique_together': (('compound', 'kind'),), 'pk_attr': 'id', 'table_description': "One contact of a compound's public board: a name (empty for a bare phone line) and a work"},
            bases=['Model'],
        ),
    ]
