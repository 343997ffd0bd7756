from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.identity import MembershipSource, PartyKind, Role
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name='Party',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharEnumField(description='PERSONAL: personal\nCOMPANY: company', enum_type=PartyKind, max_length=16)),
                ('identifier', fields.CharField(max_length=10)),
                ('name', fields.CharField(max_length=300)),
            ],
            options={'table': 'party', 'app': 'models', 'unique_together': (('kind', 'identifier'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Person',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('fin', fields.CharField(null=True, unique=True, max_length=7)),
                ('full_name', fields.CharField(max_length=200)),
                ('phone', fields.CharField(null=True, max_length=13)),
                ('asan_user_id', fields.CharField(null=True, db_index=True, max_length=64)),
                ('email', fields.CharField(null=True, max_length=254)),
            ],
            options={'table': 'person', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Account',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('person', fields.ForeignKeyField('models.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='accounts', on_delete=OnDelete.CASCADE)),
                ('username', fields.CharField(unique=True, max_length=150)),
                ('password_hash', fields.CharField(max_length=255)),
                ('role', fields.CharEnumField(default=Role.CITIZEN, description='CITIZEN: citizen\nREGISTRY_CLERK: registry_clerk\nEXECUTOR: executor\nCUSTOMS_OFFICER: customs_officer\nADMIN: admin', enum_type=Role, max_length=32)),
                ('failed_attempts', fields.IntField(default=0)),
                ('locked_until', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_failed_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('totp_secret', fields.CharField(null=True, max_length=64)),
                ('totp_last_used_step', fields.BigIntField(null=True)),
                ('is_active', fields.BooleanField(default=True)),
            ],
            options={'table': 'account', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='PartyMembership',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('person', fields.ForeignKeyField('models.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('party', fields.ForeignKeyField('models.Party', source_field='party_id', db_constraint=True, to_field='id', related_name='memberships', on_delete=OnDelete.CASCADE)),
                ('source', fields.CharEnumField(description='ASAN_CERTIFICATE: asan_certificate\nSEED: seed\nADMIN: admin', enum_type=MembershipSource, max_length=32)),
                ('granted_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'party_membership', 'app': 'models', 'unique_together': (('person', 'party'),), 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SimulatedSim',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('phone', fields.CharField(unique=True, description='E.164, e.g. +994501234567', max_length=32)),
                ('user_id', fields.CharField(max_length=32)),
                ('fin', fields.CharField(max_length=32)),
                ('full_name', fields.CharField(max_length=255)),
                ('certificates', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('failed_pin_attempts', fields.IntField(default=0)),
                ('blocked', fields.BooleanField(default=False)),
                ('version', fields.IntField(default=0, description='compare-and-set counter, ≥ 1 once saved')),
            ],
            options={'table': 'asan_simulated_sim', 'app': 'models', 'pk_attr': 'id', 'table_description': 'Asan İmza simulator: SIMs'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='SimulatedTransaction',
            fields=[
                ('id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=64)),
                ('phone', fields.CharField(max_length=32)),
                ('user_id', fields.TextField(description='as typed by the user, may match no SIM', unique=False)),
                ('challenge_hash', fields.CharField(description='hex of the SHA-256 hash', max_length=128)),
                ('language', fields.CharField(max_length=8)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('expires_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharField(default='pending', max_length=16)),
                ('delivered', fields.BooleanField(default=True)),
                ('signatures', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('reason', fields.CharField(null=True, max_length=64)),
                ('version', fields.IntField(default=0, description='compare-and-set counter, ≥ 1 once saved')),
            ],
            options={'table': 'asan_simulated_transaction', 'app': 'models', 'indexes': [Index(fields=['phone', 'status'])], 'pk_attr': 'id', 'table_description': 'Asan İmza simulator: sign-in requests'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='UsedAsanTransaction',
            fields=[
                ('transaction_id', fields.CharField(primary_key=True, unique=True, db_index=True, max_length=255)),
                ('used_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'asan_used_transaction', 'app': 'models', 'pk_attr': 'transaction_id', 'table_description': 'Asan İmza transaction ids consumed by a sign-in (replay guard)'},
            bases=['Model'],
        ),
    ]
