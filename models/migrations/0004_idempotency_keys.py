from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('models', '0003_letters')]

    initial = False

    operations = [
        ops.AddField(
            model_name='ClearanceDocument',
            name='idempotency_key',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddConstraint(
            model_name='ClearanceDocument',
            constraint=UniqueConstraint(fields=('party', 'idempotency_key'), name=None),
        ),
        ops.AddField(
            model_name='Letter',
            name='idempotency_key',
            field=fields.CharField(null=True, max_length=64),
        ),
        ops.AddConstraint(
            model_name='Letter',
            constraint=UniqueConstraint(fields=('applicant', 'idempotency_key'), name=None),
        ),
    ]
