from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('payments', '0003_refund_failures_job_claims')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Reconciliation',
            name='daily_key',
            field=fields.CharField(null=True, unique=True, max_length=32),
        ),
    ]
