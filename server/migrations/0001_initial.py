from tortoise import migrations
from tortoise.migrations import operations as ops
from accounts.models import AreaSource, FilingStatus, OwnerKind, ResidentRelation, UnitKind
from orjson import loads
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise import fields

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='AuditEvent',
            fields=[
                ('id', fields.BigIntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('stream', fields.CharField(max_length=64)),
                ('seq', fields.BigIntField()),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=64)),
                ('actor_name', fields.CharField(max_length=100)),
                ('action', fields.CharField(max_length=64)),
                ('subject', fields.CharField(max_length=128)),
                ('payload', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('request_id', fields.CharField(null=True, max_length=64)),
                ('prev_hash', fields.CharField(max_length=64)),
                ('hash', fields.CharField(unique=True, max_length=64)),
            ],
            options={'table': 'audit_event', 'app': 'models', 'unique_together': (('stream', 'seq'),), 'pk_attr': 'id', 'table_description': 'One event of one stream. Never updated or deleted by the product. The chain makes any edit,'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditHead',
            fields=[
                ('stream', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('seq', fields.BigIntField()),
                ('hash', fields.CharField(max_length=64)),
                ('updated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'audit_head', 'app': 'models', 'pk_attr': 'stream', 'table_description': 'The newest event of each stream. Appenders lock this one row, so concurrent appends to one'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Community',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=50)),
            ],
            options={'table': 'community', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Compound',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('community', fields.ForeignKeyField('models.Community', source_field='community_id', db_constraint=True, to_field='id', related_name='compounds', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=100)),
                ('address', fields.CharField(default='', max_length=200)),
                ('standalone', fields.BooleanField(default=False)),
                ('non_voters_follow_majority', fields.BooleanField(default=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'compound', 'app': 'models', 'unique_together': (('community', 'name'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Building',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('compound', fields.ForeignKeyField('models.Compound', source_field='compound_id', db_constraint=True, to_field='id', related_name='buildings', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=50)),
            ],
            options={'table': 'building', 'app': 'models', 'unique_together': (('compound', 'name'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Committee',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('compound', fields.ForeignKeyField('models.Compound', source_field='compound_id', db_constraint=True, to_field='id', related_name='committees', on_delete=OnDelete.RESTRICT)),
                ('term_starts_on', fields.DateField()),
                ('term_ends_on', fields.DateField()),
                ('filing_status', fields.CharEnumField(default=FilingStatus.PENDING, description='PENDING: pending\nFILED: filed\nREJECTED: rejected', enum_type=FilingStatus, max_length=10)),
                ('filed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'committee', 'app': 'models', 'unique_together': (('compound', 'term_starts_on'),), 'pk_attr': 'id', 'table_description': "The owners' committee of a compound for one term, and its filing (备案) with the community."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='PropertyCompany',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=100)),
                ('credit_code', fields.CharField(unique=True, max_length=18)),
                ('contact_phone', fields.CharField(default='', max_length=20)),
            ],
            options={'table': 'property_company', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ServiceContract',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('company', fields.ForeignKeyField('models.PropertyCompany', source_field='company_id', db_constraint=True, to_field='id', related_name='contracts', on_delete=OnDelete.RESTRICT)),
                ('compound', fields.ForeignKeyField('models.Compound', source_field='compound_id', db_constraint=True, to_field='id', related_name='contracts', on_delete=OnDelete.RESTRICT)),
                ('starts_on', fields.DateField()),
                ('ends_on', fields.DateField()),
                ('price_fen_per_m2', fields.IntField()),
            ],
            options={'table': 'service_contract', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Unit',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('compound', fields.ForeignKeyField('models.Compound', source_field='compound_id', db_constraint=True, to_field='id', related_name='units', on_delete=OnDelete.RESTRICT)),
                ('building', fields.ForeignKeyField('models.Building', source_field='building_id', db_constraint=True, to_field='id', related_name='units', on_delete=OnDelete.RESTRICT)),
                ('number', fields.CharField(max_length=30)),
                ('kind', fields.CharEnumField(default=UnitKind.FLAT, description='FLAT: flat\nSHOP: shop\nPARKING: parking', enum_type=UnitKind, max_length=10)),
                ('area', fields.DecimalField(max_digits=12, decimal_places=2)),
                ('area_source', fields.CharEnumField(default=AreaSource.REGISTER, description='REGISTER: register\nSURVEY: survey\nCONTRACT: contract', enum_type=AreaSource, max_length=10)),
                ('delivered', fields.BooleanField(default=True)),
            ],
            options={'table': 'unit', 'app': 'models', 'unique_together': (('building', 'number'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='User',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('openid', fields.CharField(unique=True, max_length=64)),
                ('unionid', fields.CharField(null=True, max_length=64)),
                ('phone', fields.CharField(null=True, max_length=20)),
                ('nickname', fields.CharField(default='', max_length=50)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('last_login_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'app_user', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A WeChat account that has logged in. openid is per mini-program, unionid across apps.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Owner',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(default=OwnerKind.PERSON, description='PERSON: person\nORGANISATION: organisation', enum_type=OwnerKind, max_length=12)),
                ('name', fields.CharField(max_length=100)),
                ('phone', fields.CharField(null=True, max_length=20)),
                ('id_hash', fields.CharField(null=True, unique=True, max_length=64)),
                ('is_developer', fields.BooleanField(default=False)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', null=True, db_constraint=True, to_field='id', related_name='owner_records', on_delete=OnDelete.SET_NULL)),
            ],
            options={'table': 'owner', 'app': 'models', 'pk_attr': 'id', 'table_description': 'A legal owner: a person or an organisation (the developer holding unsold units is one).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='CommitteeMember',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('committee', fields.ForeignKeyField('models.Committee', source_field='committee_id', db_constraint=True, to_field='id', related_name='members', on_delete=OnDelete.CASCADE)),
                ('owner', fields.ForeignKeyField('models.Owner', source_field='owner_id', db_constraint=True, to_field='id', related_name='committee_seats', on_delete=OnDelete.RESTRICT)),
                ('position', fields.CharField(default='委员', max_length=20)),
            ],
            options={'table': 'committee_member', 'app': 'models', 'unique_together': (('committee', 'owner'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Ownership',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('unit', fields.ForeignKeyField('models.Unit', source_field='unit_id', db_constraint=True, to_field='id', related_name='ownerships', on_delete=OnDelete.RESTRICT)),
                ('owner', fields.ForeignKeyField('models.Owner', source_field='owner_id', db_constraint=True, to_field='id', related_name='ownerships', on_delete=OnDelete.RESTRICT)),
                ('share', fields.DecimalField(default=1, max_digits=5, decimal_places=4)),
                ('votes_for_unit', fields.BooleanField(default=True)),
                ('cert_hash', fields.CharField(null=True, max_length=64)),
                ('since', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'ownership', 'app': 'models', 'unique_together': (('unit', 'owner'),), 'pk_attr': 'id', 'table_description': 'Owner ↔ unit. A co-owned unit has several rows, exactly one of them is designated to vote.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Resident',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('unit', fields.ForeignKeyField('models.Unit', source_field='unit_id', db_constraint=True, to_field='id', related_name='residents', on_delete=OnDelete.RESTRICT)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='residences', on_delete=OnDelete.CASCADE)),
                ('relation', fields.CharEnumField(description='TENANT: tenant\nFAMILY: family', enum_type=ResidentRelation, max_length=10)),
                ('added_by', fields.ForeignKeyField('models.User', source_field='added_by_id', null=True, db_constraint=True, to_field='id', related_name='+', on_delete=OnDelete.SET_NULL)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'resident', 'app': 'models', 'unique_together': (('unit', 'user'),), 'pk_attr': 'id', 'table_description': 'Someone living in a unit without owning it: files complaints and books services, never votes.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='RoleGrant',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name='grants', on_delete=OnDelete.CASCADE)),
                ('role', fields.CharField(max_length=30)),
                ('scope_type', fields.CharField(max_length=20)),
                ('scope_id', fields.IntField(default=0)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'role_grant', 'app': 'models', 'unique_together': (('user', 'role', 'scope_type', 'scope_id'),), 'pk_attr': 'id', 'table_description': 'A role held by a user within a scope: compound, community, property company, department, or the'},
            bases=['Model'],
        ),
    ]
