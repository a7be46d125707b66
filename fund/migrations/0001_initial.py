from tortoise import migrations
from tortoise.migrations import operations as ops
from fund.rules import ApplicationKind, ApplicationStatus, BuildingType, CorrectionStatus, EmergencyCategory, EntryKind
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
            name='AnnualDisclosure',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('compound_id', fields.IntField()),
                ('year', fields.IntField()),
                ('notice_id', fields.IntField()),
                ('entries_through', fields.IntField()),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fund_annual_disclosure', 'app': 'fund', 'unique_together': (('compound_id', 'year'),), 'pk_attr': 'id', 'table_description': "A compound's yearly fund disclosure as posted (the notice holds the document)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ChainHead',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('compound_id', fields.IntField(unique=True)),
                ('seq', fields.IntField(default=0)),
                ('hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'fund_chain_head', 'app': 'fund', 'pk_attr': 'id', 'table_description': "The head of one compound's ledger chain: appends lock it (or collide on (compound, seq))."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FundRate',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('building_type', fields.CharEnumField(description='NO_LIFT: no_lift\nLIFT: lift\nHIGH_RISE: high_rise', enum_type=BuildingType, max_length=12)),
                ('fen_per_m2', fields.DecimalField(max_digits=12, decimal_places=4)),
                ('effective_from', fields.DateField()),
                ('set_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fund_rate', 'app': 'fund', 'unique_together': (('building_type', 'effective_from'),), 'pk_attr': 'id', 'table_description': "The city's published first-deposit amount per m² for one building type from a date on."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='InterestRun',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('compound_id', fields.IntField()),
                ('period', fields.CharField(max_length=10)),
                ('period_end', fields.DateField()),
                ('total_fen', fields.BigIntField()),
                ('accounts', fields.IntField()),
                ('by_id', fields.IntField(null=True)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fund_interest_run', 'app': 'fund', 'unique_together': (('compound_id', 'period'),), 'pk_attr': 'id', 'table_description': "Interest of one period credited to a compound's sub-accounts, once per (compound, period)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SpecialAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(max_length=100)),
                ('sub_mchid', fields.CharField(max_length=32)),
                ('payee_id', fields.IntField()),
                ('set_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
            ],
            options={'table': 'fund_special_account', 'app': 'fund', 'pk_attr': 'id', 'table_description': "The county fund office's special account (专户) as a WeChat Pay sub-merchant: the payee of every"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SubAccount',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('unit', fields.OneToOneField('models.Unit', source_field='unit_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('compound_id', fields.IntField()),
                ('building_id', fields.IntField()),
                ('room', fields.CharField(max_length=90)),
                ('area', fields.DecimalField(max_digits=12, decimal_places=2)),
                ('building_type', fields.CharEnumField(description='NO_LIFT: no_lift\nLIFT: lift\nHIGH_RISE: high_rise', enum_type=BuildingType, max_length=12)),
                ('rate_fen_per_m2', fields.DecimalField(max_digits=12, decimal_places=4)),
                ('first_deposit_fen', fields.BigIntField()),
                ('opened_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fund_sub_account', 'app': 'fund', 'indexes': [Index(fields=['compound_id', 'building_id'])], 'pk_attr': 'id', 'table_description': "One unit's sub-account in the county fund office's special account. ``first_deposit_fen`` was"},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Correction',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('compound_id', fields.IntField()),
                ('account', fields.ForeignKeyField('fund.SubAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='corrections', on_delete=OnDelete.RESTRICT)),
                ('amount_fen', fields.BigIntField()),
                ('reason', fields.CharField(max_length=200)),
                ('status', fields.CharEnumField(default=CorrectionStatus.PENDING, description='PENDING: pending\nAPPROVED: approved\nREJECTED: rejected', enum_type=CorrectionStatus, max_length=10)),
                ('requested_by_id', fields.IntField()),
                ('decided_by_id', fields.IntField(null=True)),
                ('decided_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fund_correction', 'app': 'fund', 'indexes': [Index(fields=['status', 'id'])], 'pk_attr': 'id', 'table_description': 'A correction of one sub-account: requested by one fund-office person with a reason, entered'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='FundEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('compound_id', fields.IntField()),
                ('seq', fields.IntField()),
                ('key', fields.CharField(unique=True, max_length=64)),
                ('kind', fields.CharEnumField(description='FIRST_DEPOSIT: first_deposit\nDEVELOPER_DEPOSIT: developer_deposit\nTOP_UP: top_up\nINTEREST: interest\nUSE: use\nTRANSFER: transfer\nCORRECTION: correction', enum_type=EntryKind, max_length=20)),
                ('account', fields.ForeignKeyField('fund.SubAccount', source_field='account_id', db_constraint=True, to_field='id', related_name='entries', on_delete=OnDelete.RESTRICT)),
                ('amount_fen', fields.BigIntField()),
                ('note', fields.CharField(default='', max_length=200)),
                ('ref', fields.CharField(default='', max_length=64)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.CharField(max_length=40)),
                ('prev_hash', fields.CharField(max_length=64)),
                ('hash', fields.CharField(max_length=64)),
            ],
            options={'table': 'fund_entry', 'app': 'fund', 'unique_together': (('compound_id', 'seq'),), 'indexes': [Index(fields=['account_id', 'at']), Index(fields=['compound_id', 'at'])], 'pk_attr': 'id', 'table_description': 'Append-only. ``amount_fen`` is signed (+ into the sub-account, − out of it). ``key`` makes each'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UseApplication',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('compound_id', fields.IntField()),
                ('kind', fields.CharEnumField(description='ORDINARY: ordinary\nEMERGENCY: emergency', enum_type=ApplicationKind, max_length=10)),
                ('emergency', fields.CharEnumField(null=True, description='LIFT_FAULT: lift_fault\nROOF_WALL_LEAK: roof_wall_leak\nWATER_PUMP_MAIN: water_pump_main\nDRAIN: drain\nFACADE: facade\nFIRE_SYSTEM: fire_system', enum_type=EmergencyCategory, max_length=20)),
                ('title', fields.CharField(max_length=100)),
                ('works', fields.TextField(unique=False)),
                ('budget_fen', fields.BigIntField()),
                ('cost_fen', fields.BigIntField(null=True)),
                ('scope', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('shares', fields.JSONField(encoder=JSON_DUMPS, decoder=loads)),
                ('status', fields.CharEnumField(description='VOTING: voting\nREJECTED: rejected\nAPPROVED: approved\nCOMPLETED: completed\nPAID: paid', enum_type=ApplicationStatus, max_length=10)),
                ('motion_id', fields.IntField(null=True)),
                ('vote_result', fields.JSONField(null=True, encoder=JSON_DUMPS, decoder=loads)),
                ('applicant_id', fields.IntField()),
                ('applicant_role', fields.CharField(max_length=20)),
                ('completed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('paid_by_id', fields.IntField(null=True)),
                ('paid_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('notice_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'fund_application', 'app': 'fund', 'indexes': [Index(fields=['compound_id', 'id']), Index(fields=['status', 'id'])], 'pk_attr': 'id', 'table_description': '维修资金使用申请: the works, the units sharing the cost and the budget. Status moves only'},
            bases=['Model'],
        ),
    ]
