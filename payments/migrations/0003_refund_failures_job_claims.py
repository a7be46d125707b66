from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0007_compound_contacts'), ('payments', '0002_purposes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='PaymentOrder',
            name='claimed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='RefundRecord',
            name='claimed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='RefundRecord',
            name='failure',
            field=fields.CharField(default='', max_length=120),
        ),
        ops.AddField(
            model_name='RefundRecord',
            name='retried_as',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddField(
            model_name='RefundRecord',
            name='settled_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='RefundRecord',
            index=Index(fields=['state', 'settled_at']),
        ),
    ]
