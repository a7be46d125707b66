from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0003_lookup_indexes'), ('voting', '0002_lookup_indexes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='CurrentBallot',
            name='cast_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        # The current ballot's cast_at, for the rows written before the column existed.
        ops.RunSQL(
            "UPDATE voting_current_ballot SET cast_at = "
            "(SELECT b.cast_at FROM voting_ballot b WHERE b.id = voting_current_ballot.ballot_id)",
            reverse_sql="",
        ),
    ]
