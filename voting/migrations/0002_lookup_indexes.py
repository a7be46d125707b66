from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0003_lookup_indexes'), ('voting', '0001_initial')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Ballot',
            index=Index(fields=['motion_id', 'batch_id']),
        ),
        ops.AddIndex(
            model_name='BallotChoice',
            index=Index(fields=['ballot_id']),
        ),
        ops.AddIndex(
            model_name='CurrentBallot',
            index=Index(fields=['ballot_id']),
        ),
        ops.AddIndex(
            model_name='Motion',
            index=Index(fields=['compound_id', 'status']),
        ),
        ops.AddIndex(
            model_name='ProxyAuthorization',
            index=Index(fields=['motion_id', 'status']),
        ),
        ops.AddIndex(
            model_name='Voter',
            index=Index(fields=['owner_id']),
        ),
    ]
