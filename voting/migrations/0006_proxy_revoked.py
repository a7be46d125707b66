from tortoise import migrations
from tortoise.migrations import operations as ops
from voting.models import ProxyStatus
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial'), ('models', '0002_invitations_departments'), ('models', '0003_lookup_indexes'), ('models', '0004_owners_per_compound'), ('models', '0005_sessions_in_database'), ('models', '0006_organisations_proxies'), ('voting', '0005_motion_scope_units')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='ProxyAuthorization',
            name='status',
            field=fields.CharEnumField(default=ProxyStatus.PENDING, description='PENDING: pending\nAPPROVED: approved\nREJECTED: rejected\nREVOKED: revoked', enum_type=ProxyStatus, max_length=10),
        ),
    ]
