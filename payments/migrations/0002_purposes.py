from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial'), ('models', '0002_invitations_departments'), ('models', '0003_lookup_indexes'), ('models', '0004_owners_per_compound'), ('models', '0005_sessions_in_database'), ('models', '0006_organisations_proxies'), ('payments', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Bill',
            name='overdue_notified_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Bill',
            index=Index(fields=['status', 'period']),
        ),
        ops.AlterModelOptions(
            name='PaymentOrder',
            options={'table': 'pay_order', 'app': 'payments', 'indexes': [Index(fields=['payer_id', 'created_at']), Index(fields=['state', 'expires_at']), Index(fields=['payee_id', 'paid_at']), Index(fields=['purpose', 'reference'])], 'pk_attr': 'id', 'table_description': 'A WeChat Pay order of one payee: for bills (``purpose`` "bills", lines in OrderBill), or for a'},
        ),
        ops.AddField(
            model_name='PaymentOrder',
            name='live_key',
            field=fields.CharField(null=True, unique=True, max_length=64),
        ),
        ops.AddField(
            model_name='PaymentOrder',
            name='purpose',
            field=fields.CharField(default='bills', max_length=20),
        ),
        ops.AddField(
            model_name='PaymentOrder',
            name='reference',
            field=fields.CharField(null=True, max_length=40),
        ),
        ops.AddIndex(
            model_name='PaymentOrder',
            index=Index(fields=['purpose', 'reference']),
        ),
    ]
