from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('bookings', '0001_initial'), ('models', '0001_initial'), ('models', '0002_invitations_departments'), ('models', '0003_lookup_indexes'), ('models', '0004_owners_per_compound'), ('models', '0005_sessions_in_database'), ('models', '0006_organisations_proxies')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Booking',
            name='next_reminder_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='Booking',
            index=Index(fields=['state', 'next_reminder_at']),
        ),
        ops.AddField(
            model_name='Service',
            name='remind_day_before',
            field=fields.BooleanField(default=True),
        ),
        ops.AddField(
            model_name='Service',
            name='remind_hours',
            field=fields.SmallIntField(default=2),
        ),
    ]
