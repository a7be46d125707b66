from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('notices', '0002_one_disclosure_per_period')]

    initial = False

    operations = [
        ops.CreateModel(
            name='NoticeAck',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('notice', fields.ForeignKeyField('notices.Notice', source_field='notice_id', db_constraint=True, to_field='id', related_name='acks', on_delete=OnDelete.CASCADE)),
                ('user', fields.ForeignKeyField('models.User', source_field='user_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.CASCADE)),
                ('addressed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('acknowledged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notice_ack', 'app': 'notices', 'unique_together': (('notice', 'user'),), 'indexes': [Index(fields=['notice_id', 'acknowledged_at', 'id'])], 'pk_attr': 'id', 'table_description': 'A person a notice requiring acknowledgement was addressed to, and when they acknowledged it'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Notice',
            name='requires_ack',
            field=fields.BooleanField(default=False),
        ),
    ]
