from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

# A period's "Sayı" sums per-party, per-day tallies instead of counting documents (issue 12).
# Triggers keep the tally in the writer's own transaction, whoever writes (the service, bulk
# seeding, SQL by hand); the backfill runs after them in this migration's transaction. On
# PostgreSQL CREATE TRIGGER locks the documents against writes until that commits, so no
# document is counted twice or missed; SQLite has a single writer.
#
# The day is the one the period filter puts a document in: SQLite compares the stored text
# (Tortoise writes Baku time, "2026-11-30 12:00:00+04:00"), so the day is its first ten
# characters; PostgreSQL stores an instant, whose Baku day is AT TIME ZONE 'Asia/Baku'.

SQLITE_DAY = "substr({row}.created_at, 1, 10)"
POSTGRES_DAY = "({row}.created_at AT TIME ZONE 'Asia/Baku')::date"

SQLITE = [
    f"""CREATE TRIGGER document_day_tally_insert AFTER INSERT ON clearance_document
BEGIN
    INSERT INTO document_day_tally (party_id, day, documents, mistaken)
    VALUES (NEW.party_id, {SQLITE_DAY.format(row="NEW")}, 1, NEW.mistaken_at IS NOT NULL)
    ON CONFLICT (party_id, day) DO UPDATE SET
        documents = documents + excluded.documents, mistaken = mistaken + excluded.mistaken;
END""",
    f"""CREATE TRIGGER document_day_tally_delete AFTER DELETE ON clearance_document
BEGIN
    UPDATE document_day_tally SET
        documents = documents - 1, mistaken = mistaken - (OLD.mistaken_at IS NOT NULL)
    WHERE party_id = OLD.party_id AND day = {SQLITE_DAY.format(row="OLD")};
END""",
    f"""CREATE TRIGGER document_day_tally_update
AFTER UPDATE OF party_id, created_at, mistaken_at ON clearance_document
WHEN OLD.party_id IS NOT NEW.party_id OR OLD.created_at IS NOT NEW.created_at
    OR (OLD.mistaken_at IS NULL) <> (NEW.mistaken_at IS NULL)
BEGIN
    UPDATE document_day_tally SET
        documents = documents - 1, mistaken = mistaken - (OLD.mistaken_at IS NOT NULL)
    WHERE party_id = OLD.party_id AND day = {SQLITE_DAY.format(row="OLD")};
    INSERT INTO document_day_tally (party_id, day, documents, mistaken)
    VALUES (NEW.party_id, {SQLITE_DAY.format(row="NEW")}, 1, NEW.mistaken_at IS NOT NULL)
    ON CONFLICT (party_id, day) DO UPDATE SET
        documents = documents + excluded.documents, mistaken = mistaken + excluded.mistaken;
END""",
    f"""INSERT INTO document_day_tally (party_id, day, documents, mistaken)
SELECT d.party_id, {SQLITE_DAY.format(row="d")}, COUNT(*), COUNT(d.mistaken_at)
FROM clearance_document d GROUP BY 1, 2""",
]

POSTGRES = [
    f"""CREATE FUNCTION document_day_tally_follow() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE document_day_tally SET
            documents = documents - 1,
            mistaken = mistaken - (OLD.mistaken_at IS NOT NULL)::int
        WHERE party_id = OLD.party_id AND day = {POSTGRES_DAY.format(row="OLD")};
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO document_day_tally AS t (party_id, day, documents, mistaken)
        VALUES (NEW.party_id, {POSTGRES_DAY.format(row="NEW")}, 1,
                (NEW.mistaken_at IS NOT NULL)::int)
        ON CONFLICT (party_id, day) DO UPDATE SET
            documents = t.documents + EXCLUDED.documents,
            mistaken = t.mistaken + EXCLUDED.mistaken;
    END IF;
    RETURN NULL;
END
$$""",
    """CREATE TRIGGER document_day_tally_insert_delete AFTER INSERT OR DELETE
ON clearance_document FOR EACH ROW EXECUTE FUNCTION document_day_tally_follow()""",
    """CREATE TRIGGER document_day_tally_update
AFTER UPDATE OF party_id, created_at, mistaken_at ON clearance_document FOR EACH ROW
WHEN (OLD.party_id IS DISTINCT FROM NEW.party_id
    OR OLD.created_at IS DISTINCT FROM NEW.created_at
    OR (OLD.mistaken_at IS NULL) <> (NEW.mistaken_at IS NULL))
EXECUTE FUNCTION document_day_tally_follow()""",
    f"""INSERT INTO document_day_tally (party_id, day, documents, mistaken)
SELECT d.party_id, {POSTGRES_DAY.format(row="d")}, COUNT(*), COUNT(d.mistaken_at)
FROM clearance_document d GROUP BY 1, 2""",
]


async def _run(schema_editor, sql: str) -> None:
    # One statement at a time, unsplit: the SQLite editor splits scripts on ";", which
    # would cut a trigger's body apart.
    if schema_editor.collect_sql:
        schema_editor.collected_sql.append(sql)
    else:
        await schema_editor.client.execute_query(sql)


async def tally_triggers_and_backfill(apps, schema_editor) -> None:
    sqlite = schema_editor.client.capabilities.dialect == "sqlite"
    for sql in SQLITE if sqlite else POSTGRES:
        await _run(schema_editor, sql)


async def drop_tally_triggers(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect == "sqlite":
        names = ("insert", "delete", "update")
        drops = [f"DROP TRIGGER IF EXISTS document_day_tally_{name}" for name in names]
    else:
        drops = [
            "DROP TRIGGER IF EXISTS document_day_tally_insert_delete ON clearance_document",
            "DROP TRIGGER IF EXISTS document_day_tally_update ON clearance_document",
            "DROP FUNCTION IF EXISTS document_day_tally_follow()",
        ]
    for sql in drops:
        await _run(schema_editor, sql)


class Migration(migrations.Migration):
    dependencies = [('models', '0007_stored_files')]

    initial = False

    operations = [
        ops.CreateModel(
            name='DocumentDayTally',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('party', fields.ForeignKeyField('models.Party', source_field='party_id', db_constraint=True, to_field='id', related_name='document_day_tallies', on_delete=OnDelete.CASCADE)),
                ('day', fields.DateField()),
                ('documents', fields.IntField(default=0)),
                ('mistaken', fields.IntField(default=0)),
            ],
            options={'table': 'document_day_tally', 'app': 'models', 'unique_together': (('party', 'day'),), 'pk_attr': 'id', 'table_description': 'How many documents a party entered on one Baku calendar day, and how many of those are'},
            bases=['Model'],
        ),
        ops.RunPython(tally_triggers_and_backfill, drop_tally_triggers),
    ]
