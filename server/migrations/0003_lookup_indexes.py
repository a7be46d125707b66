from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial'), ('models', '0002_invitations_departments')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Owner',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='Ownership',
            index=Index(fields=['owner_id']),
        ),
        ops.AddIndex(
            model_name='Resident',
            index=Index(fields=['user_id']),
        ),
        ops.AddIndex(
            model_name='ServiceContract',
            index=Index(fields=['compound_id']),
        ),
        ops.AddIndex(
            model_name='Unit',
            index=Index(fields=['compound_id']),
        ),
    ]
