from tortoise import migrations
from tortoise.migrations import operations as ops
from photos.models import Moderation
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_invitations_departments')]

    initial = True

    operations = [
        ops.CreateModel(
            name='Photo',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('uploader', fields.ForeignKeyField('models.User', source_field='uploader_id', db_constraint=True, to_field='id', related_name=False, on_delete=OnDelete.RESTRICT)),
                ('sha256', fields.CharField(db_index=True, max_length=64)),
                ('format', fields.CharField(max_length=10)),
                ('width', fields.IntField()),
                ('height', fields.IntField()),
                ('byte_size', fields.IntField()),
                ('original_key', fields.CharField(max_length=200)),
                ('display_key', fields.CharField(max_length=200)),
                ('display_width', fields.IntField()),
                ('display_height', fields.IntField()),
                ('thumbnail_key', fields.CharField(max_length=200)),
                ('thumbnail_width', fields.IntField()),
                ('thumbnail_height', fields.IntField()),
                ('attached_to', fields.CharField(null=True, db_index=True, max_length=60)),
                ('moderation', fields.CharEnumField(default=Moderation.PENDING, description='PENDING: pending\nPASSED: passed\nHELD: held\nREJECTED: rejected', enum_type=Moderation, max_length=10)),
                ('check_trace_id', fields.CharField(null=True, db_index=True, max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('original_keep_until', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('original_purged_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'photo', 'app': 'photos', 'pk_attr': 'id', 'table_description': 'An uploaded photo with a private original and public metadata-free renditions.'},
            bases=['Model'],
        ),
    ]
