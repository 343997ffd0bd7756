from tortoise import migrations
from tortoise.migrations import operations as ops
from models.identity import MembershipSource
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0004_idempotency_keys')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='PartyMembership',
            name='source',
            field=fields.CharEnumField(description='ASAN_CERTIFICATE: asan_certificate\nE_IMZA_CERTIFICATE: e_imza_certificate\nSEED: seed\nADMIN: admin', enum_type=MembershipSource, max_length=32),
        ),
    ]
