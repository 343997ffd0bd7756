from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('models', '0006_indexes')]

    initial = False

    operations = [
        ops.AlterField(
            model_name='DocumentFile',
            name='content_type',
            field=fields.CharField(max_length=100),
        ),
        ops.AlterField(
            model_name='DocumentFile',
            name='storage_key',
            field=fields.CharField(unique=True, max_length=64),
        ),
        # One stored-file shape (models.base.StoredFile): the letters' `filename` keeps its
        # values under the documents' name, and both take the wider of the two lengths.
        ops.RenameField(model_name='LetterAttachment', old_name='filename', new_name='original_name'),
        ops.AlterField(
            model_name='LetterAttachment',
            name='original_name',
            field=fields.CharField(max_length=300),
        ),
        # SQLite alters a column by rebuilding the table, which drops 0006's foreign-key
        # indexes; PostgreSQL keeps them. Either way they exist afterwards, by the same name.
        ops.RunSQL(
            [
                'CREATE INDEX IF NOT EXISTS "idx_document_fi_documen_2e1d8d" '
                'ON "document_file" ("document_id")',
                'CREATE INDEX IF NOT EXISTS "idx_letter_atta_letter__c9d27b" '
                'ON "letter_attachment" ("letter_id")',
            ]
        ),
    ]
