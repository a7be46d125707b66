from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

# Each standing (not withdrawn) disclosure holds its period. Where earlier data has several for the
# same compound, kind and period, the published one (else the newest) keeps it; the others stay as
# notices but no longer stand for the period (not compared, and their period may not be reused).
FILL = """
UPDATE notice_disclosure SET period_key = CAST(period_start AS TEXT) || '~' || CAST(period_end AS TEXT)
WHERE notice_id IN (SELECT id FROM notice WHERE status <> 'withdrawn')
"""
ONE_PER_PERIOD = """
UPDATE notice_disclosure SET period_key = NULL
WHERE period_key IS NOT NULL AND EXISTS (
    SELECT 1 FROM notice_disclosure other
    JOIN notice other_notice ON other_notice.id = other.notice_id
    JOIN notice this_notice ON this_notice.id = notice_disclosure.notice_id
    WHERE other.compound_id = notice_disclosure.compound_id AND other.kind = notice_disclosure.kind
      AND other.period_key = notice_disclosure.period_key AND other.id <> notice_disclosure.id
      AND (
        (other_notice.status = 'published' AND this_notice.status <> 'published')
        OR ((other_notice.status = 'published') = (this_notice.status = 'published')
            AND other.id > notice_disclosure.id)
      )
)
"""


class Migration(migrations.Migration):
    dependencies = [('notices', '0001_initial')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Disclosure',
            name='period_key',
            field=fields.CharField(null=True, max_length=30),
        ),
        ops.RunSQL([FILL, ONE_PER_PERIOD], reverse_sql=ops.RunSQL.noop),
        ops.AddConstraint(
            model_name='Disclosure',
            constraint=UniqueConstraint(fields=('compound', 'kind', 'period_key'), name=None),
        ),
    ]
