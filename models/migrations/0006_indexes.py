from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('models', '0005_e_imza_membership_source')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Account',
            index=Index(fields=['person_id']),
        ),
        ops.AddIndex(
            model_name='AuditEntry',
            index=Index(fields=['actor_id']),
        ),
        ops.AddIndex(
            model_name='AuditEntry',
            index=Index(fields=['party_id']),
        ),
        ops.AddIndex(
            model_name='AuditEntry',
            index=Index(fields=['document_id']),
        ),
        ops.AddIndex(
            model_name='AuditEntry',
            index=Index(fields=['file_id']),
        ),
        ops.RemoveIndex(
            model_name='ClearanceDocument',
            name=None,
            fields=['party_id', 'created_at'],
        ),
        ops.AddIndex(
            model_name='ClearanceDocument',
            index=Index(fields=['party_id', 'created_at', 'id', 'mistaken_at']),
        ),
        ops.AddIndex(
            model_name='ClearanceDocument',
            index=Index(fields=['entered_by_id']),
        ),
        ops.AddIndex(
            model_name='ClearanceDocument',
            index=Index(fields=['mistaken_by_id']),
        ),
        ops.AddIndex(
            model_name='DocumentFile',
            index=Index(fields=['document_id']),
        ),
        ops.AddIndex(
            model_name='Executor',
            index=Index(fields=['body_id']),
        ),
        ops.AddIndex(
            model_name='Executor',
            index=Index(fields=['unit_id']),
        ),
        ops.AddIndex(
            model_name='Executor',
            index=Index(fields=['person_id']),
        ),
        ops.AddIndex(
            model_name='Letter',
            index=Index(fields=['unit_id']),
        ),
        ops.AddIndex(
            model_name='Letter',
            index=Index(fields=['executor_id']),
        ),
        ops.AddIndex(
            model_name='LetterAttachment',
            index=Index(fields=['letter_id']),
        ),
        ops.AddIndex(
            model_name='LetterEvent',
            index=Index(fields=['letter_id', 'at']),
        ),
        ops.AddIndex(
            model_name='LetterEvent',
            index=Index(fields=['actor_id']),
        ),
        ops.AddIndex(
            model_name='Notification',
            index=Index(fields=['recipient_id']),
        ),
        ops.AddIndex(
            model_name='Notification',
            index=Index(fields=['letter_id']),
        ),
        ops.AddIndex(
            model_name='ObligationAcknowledgment',
            index=Index(fields=['person_id']),
        ),
        ops.AddIndex(
            model_name='PartyMembership',
            index=Index(fields=['person_id', 'party_id']),
        ),
        ops.AddIndex(
            model_name='PartyMembership',
            index=Index(fields=['party_id']),
        ),
    ]
