from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_sessions_in_database'), ('voting', '0003_current_ballot_cast_at')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ProxyInvitation',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('motion', fields.ForeignKeyField('voting.Motion', source_field='motion_id', db_constraint=True, to_field='id', related_name='proxy_invitations', on_delete=OnDelete.RESTRICT)),
                ('voter', fields.ForeignKeyField('voting.Voter', source_field='voter_id', db_constraint=True, to_field='id', related_name='proxy_invitations', on_delete=OnDelete.RESTRICT)),
                ('invited_by', fields.ForeignKeyField('models.User', source_field='invited_by_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('code_hash', fields.CharField(null=True, unique=True, max_length=64)),
                ('invitee', fields.ForeignKeyField('models.User', source_field='invitee_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('accepted_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('authorization', fields.ForeignKeyField('voting.ProxyAuthorization', source_field='authorization_id', null=True, db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'voting_proxy_invitation', 'app': 'voting', 'indexes': [Index(fields=['invitee_id']), Index(fields=['motion_id'])], 'pk_attr': 'id', 'table_description': "An owner's invitation to vote for them in one motion: a one-time code (only its hash is kept)"},
            bases=['Model'],
        ),
    ]
