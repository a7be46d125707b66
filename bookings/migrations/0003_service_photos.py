from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('bookings', '0002_reminders'), ('models', '0001_initial'), ('models', '0002_invitations_departments'), ('models', '0003_lookup_indexes'), ('models', '0004_owners_per_compound'), ('models', '0005_sessions_in_database'), ('models', '0006_organisations_proxies'), ('models', '0007_compound_contacts')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ServicePhoto',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('service', fields.ForeignKeyField('bookings.Service', source_field='service_id', db_constraint=True, to_field='id', related_name='photos', on_delete=OnDelete.CASCADE)),
                ('position', fields.SmallIntField()),
                ('photo_id', fields.IntField()),
                ('added_by_id', fields.IntField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'bk_service_photo', 'app': 'bookings', 'unique_together': (('service', 'position'),), 'indexes': [Index(fields=['photo_id'])], 'pk_attr': 'id', 'table_description': 'A photo of a service, shown in the catalogue (bookings.gallery). The photo (photos pipeline)'},
            bases=['Model'],
        ),
    ]
