from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from models.letters import EmailStatus, LetterChannel, LetterStatus
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0002_documents')]

    initial = False

    operations = [
        ops.CreateModel(
            name='CustomsBody',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('name', fields.CharField(unique=True, max_length=200)),
                ('position', fields.IntField(default=0)),
                ('is_active', fields.BooleanField(default=True)),
            ],
            options={'table': 'customs_body', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='LetterCounter',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('body', fields.ForeignKeyField('models.CustomsBody', source_field='body_id', db_constraint=True, to_field='id', related_name='counters', on_delete=OnDelete.RESTRICT)),
                ('year', fields.IntField()),
                ('last_number', fields.IntField(default=0)),
            ],
            options={'table': 'letter_counter', 'app': 'models', 'unique_together': (('body', 'year'),), 'pk_attr': 'id', 'table_description': 'The last number issued for one body in one year (numbers are gap-free).'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='StructuralUnit',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('body', fields.ForeignKeyField('models.CustomsBody', source_field='body_id', db_constraint=True, to_field='id', related_name='units', on_delete=OnDelete.RESTRICT)),
                ('name', fields.CharField(max_length=200)),
                ('is_active', fields.BooleanField(default=True)),
            ],
            options={'table': 'structural_unit', 'app': 'models', 'unique_together': (('body', 'name'),), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Executor',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('full_name', fields.CharField(max_length=200)),
                ('phone', fields.CharField(max_length=32)),
                ('body', fields.ForeignKeyField('models.CustomsBody', source_field='body_id', db_constraint=True, to_field='id', related_name='executors', on_delete=OnDelete.RESTRICT)),
                ('unit', fields.ForeignKeyField('models.StructuralUnit', source_field='unit_id', null=True, db_constraint=True, to_field='id', related_name='executors', on_delete=OnDelete.SET_NULL)),
                ('person', fields.ForeignKeyField('models.Person', source_field='person_id', null=True, db_constraint=True, to_field='id', related_name='executor_entries', on_delete=OnDelete.SET_NULL)),
                ('is_active', fields.BooleanField(default=True)),
            ],
            options={'table': 'executor', 'app': 'models', 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='Letter',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('body', fields.ForeignKeyField('models.CustomsBody', source_field='body_id', db_constraint=True, to_field='id', related_name='letters', on_delete=OnDelete.RESTRICT)),
                ('year', fields.IntField()),
                ('sequence', fields.IntField()),
                ('number', fields.CharField(max_length=40)),
                ('number_key', fields.CharField(db_index=True, max_length=40)),
                ('registered_on', fields.DateField()),
                ('registered_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('channel', fields.CharEnumField(description='ELECTRONIC: electronic\nPAPER: paper', enum_type=LetterChannel, max_length=16)),
                ('applicant', fields.ForeignKeyField('models.Person', source_field='applicant_id', null=True, db_constraint=True, to_field='id', related_name='letters', on_delete=OnDelete.SET_NULL)),
                ('applicant_fin', fields.CharField(null=True, db_index=True, max_length=7)),
                ('applicant_name', fields.CharField(max_length=200)),
                ('applicant_phone', fields.CharField(null=True, max_length=32)),
                ('applicant_email', fields.CharField(null=True, max_length=254)),
                ('subject', fields.CharField(max_length=300)),
                ('text', fields.TextField(default='', unique=False)),
                ('status', fields.CharEnumField(default=LetterStatus.REGISTERED, description='REGISTERED: registered\nSENT_TO_EXECUTOR: sent_to_executor\nIN_PROGRESS: in_progress\nFORWARDED_ELSEWHERE: forwarded_elsewhere\nEXTENDED: extended\nANSWERED: answered\nDISMISSED: dismissed', enum_type=LetterStatus, max_length=32)),
                ('unit', fields.ForeignKeyField('models.StructuralUnit', source_field='unit_id', null=True, db_constraint=True, to_field='id', related_name='letters', on_delete=OnDelete.SET_NULL)),
                ('executor', fields.ForeignKeyField('models.Executor', source_field='executor_id', null=True, db_constraint=True, to_field='id', related_name='letters', on_delete=OnDelete.SET_NULL)),
                ('due_on', fields.DateField()),
                ('extended', fields.BooleanField(default=False)),
                ('status_changed_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'letter', 'app': 'models', 'unique_together': (('body', 'year', 'sequence'), ('body', 'number_key')), 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='LetterAttachment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('letter', fields.ForeignKeyField('models.Letter', source_field='letter_id', db_constraint=True, to_field='id', related_name='attachments', on_delete=OnDelete.CASCADE)),
                ('storage_key', fields.CharField(unique=True, max_length=64)),
                ('filename', fields.CharField(max_length=255)),
                ('content_type', fields.CharField(max_length=100)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'letter_attachment', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='LetterEvent',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('letter', fields.ForeignKeyField('models.Letter', source_field='letter_id', db_constraint=True, to_field='id', related_name='events', on_delete=OnDelete.CASCADE)),
                ('at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('actor', fields.ForeignKeyField('models.Person', source_field='actor_id', null=True, db_constraint=True, to_field='id', related_name='letter_events', on_delete=OnDelete.SET_NULL)),
                ('actor_name', fields.CharField(default='', max_length=200)),
                ('from_status', fields.CharEnumField(null=True, description='REGISTERED: registered\nSENT_TO_EXECUTOR: sent_to_executor\nIN_PROGRESS: in_progress\nFORWARDED_ELSEWHERE: forwarded_elsewhere\nEXTENDED: extended\nANSWERED: answered\nDISMISSED: dismissed', enum_type=LetterStatus, max_length=32)),
                ('to_status', fields.CharEnumField(description='REGISTERED: registered\nSENT_TO_EXECUTOR: sent_to_executor\nIN_PROGRESS: in_progress\nFORWARDED_ELSEWHERE: forwarded_elsewhere\nEXTENDED: extended\nANSWERED: answered\nDISMISSED: dismissed', enum_type=LetterStatus, max_length=32)),
                ('from_unit_name', fields.CharField(default='', max_length=200)),
                ('to_unit_name', fields.CharField(default='', max_length=200)),
                ('from_executor_name', fields.CharField(default='', max_length=200)),
                ('to_executor_name', fields.CharField(default='', max_length=200)),
                ('public_note', fields.TextField(default='', unique=False)),
                ('internal_note', fields.TextField(default='', unique=False)),
            ],
            options={'table': 'letter_event', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='Notification',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('recipient', fields.ForeignKeyField('models.Person', source_field='recipient_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.SET_NULL)),
                ('letter', fields.ForeignKeyField('models.Letter', source_field='letter_id', null=True, db_constraint=True, to_field='id', related_name='notifications', on_delete=OnDelete.SET_NULL)),
                ('kind', fields.CharField(max_length=32)),
                ('params', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('email_to', fields.CharField(null=True, max_length=254)),
                ('subject', fields.CharField(max_length=300)),
                ('body', fields.TextField(unique=False)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('email_status', fields.CharEnumField(default=EmailStatus.PENDING, description='PENDING: pending\nSENT: sent\nNO_ADDRESS: no_address', enum_type=EmailStatus, max_length=16)),
                ('attempts', fields.IntField(default=0)),
                ('next_attempt_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('sent_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'notification', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The outbox: every notice is stored first, shown on the Bildirişlər page, and sent by'},
            bases=['Model'],
        ),
    ]
