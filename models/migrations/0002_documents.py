from tortoise import migrations
from tortoise.migrations import operations as ops
from models.documents import AuditAction, DocumentKind
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0001_initial')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ClearanceDocument',
            fields=[
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
                ('updated_at', fields.DatetimeField(auto_now=True, auto_now_add=False)),
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('party', fields.ForeignKeyField('models.Party', source_field='party_id', db_constraint=True, to_field='id', related_name='clearance_documents', on_delete=OnDelete.RESTRICT)),
                ('entered_by', fields.ForeignKeyField('models.Person', source_field='entered_by_id', db_constraint=True, to_field='id', related_name='entered_documents', on_delete=OnDelete.RESTRICT)),
                ('kind', fields.CharEnumField(description='INVOICE: invoice\nTRADE_CONTRACT: trade_contract\nTRANSPORT: transport\nORIGIN_CERTIFICATE: origin_certificate\nPACKING_LIST: packing_list\nCONFORMITY: conformity\nOTHER: other', enum_type=DocumentKind, max_length=32)),
                ('number', fields.CharField(max_length=100)),
                ('issued_on', fields.DateField()),
                ('declaration_number', fields.CharField(null=True, db_index=True, max_length=40)),
                ('note', fields.TextField(null=True, unique=False)),
                ('mistaken_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('mistaken_by', fields.ForeignKeyField('models.Person', source_field='mistaken_by_id', null=True, db_constraint=True, to_field='id', related_name='documents_marked_mistaken', on_delete=OnDelete.RESTRICT)),
                ('mistaken_reason', fields.TextField(null=True, unique=False)),
            ],
            options={'table': 'clearance_document', 'app': 'models', 'indexes': [Index(fields=['party_id', 'created_at'])], 'pk_attr': 'id'},
            bases=['TimestampedModel'],
        ),
        ops.CreateModel(
            name='DocumentFile',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('document', fields.ForeignKeyField('models.ClearanceDocument', source_field='document_id', db_constraint=True, to_field='id', related_name='files', on_delete=OnDelete.RESTRICT)),
                ('storage_key', fields.CharField(unique=True, max_length=32)),
                ('original_name', fields.CharField(max_length=300)),
                ('content_type', fields.CharField(max_length=64)),
                ('size', fields.BigIntField()),
                ('sha256', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'document_file', 'app': 'models', 'pk_attr': 'id'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='AuditEntry',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('actor', fields.ForeignKeyField('models.Person', source_field='actor_id', db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.RESTRICT)),
                ('action', fields.CharEnumField(description='SEARCH: search\nVIEW: view\nDOWNLOAD: download', enum_type=AuditAction, max_length=16)),
                ('party', fields.ForeignKeyField('models.Party', source_field='party_id', null=True, db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.RESTRICT)),
                ('document', fields.ForeignKeyField('models.ClearanceDocument', source_field='document_id', null=True, db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.RESTRICT)),
                ('file', fields.ForeignKeyField('models.DocumentFile', source_field='file_id', null=True, db_constraint=True, to_field='id', related_name='audit_entries', on_delete=OnDelete.RESTRICT)),
                ('detail', fields.CharField(default='', max_length=500)),
                ('at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'audit_entry', 'app': 'models', 'pk_attr': 'id', 'table_description': "One access by a customs officer to a party's documents (who, what, when)."},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='ObligationAcknowledgment',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('party', fields.OneToOneField('models.Party', source_field='party_id', db_constraint=True, to_field='id', related_name='obligation_acknowledgment', on_delete=OnDelete.RESTRICT)),
                ('person', fields.ForeignKeyField('models.Person', source_field='person_id', db_constraint=True, to_field='id', related_name='obligation_acknowledgments', on_delete=OnDelete.RESTRICT)),
                ('retention_years', fields.SmallIntField()),
                ('acknowledged_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'obligation_acknowledgment', 'app': 'models', 'pk_attr': 'id', 'table_description': 'The party read “Öhdəlik forması” and pressed “Tanış oldum” (once per party).'},
            bases=['Model'],
        ),
    ]
