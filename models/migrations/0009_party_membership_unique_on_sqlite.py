from tortoise import migrations
from tortoise.migrations import operations as ops

# 0005 altered `party_membership.source`; SQLite alters a column by rebuilding the table,
# and that rebuild dropped the (person, party) UNIQUE constraint that 0001 made (PostgreSQL
# kept it). Put it back on SQLite, by the name PostgreSQL's has. Duplicates that could be
# written meanwhile go first: one grant per person and party is kept, the oldest, with the
# deliberate source (seed, admin) if one of the duplicates had it — the rule `grant_party`
# applies to a new grant. tests/integration/test_schema_uniques.py checks every declared
# unique on both databases.

CERTIFICATE_SOURCES = "('asan_certificate', 'e_imza_certificate')"
SAME_GRANT = "d.person_id = party_membership.person_id AND d.party_id = party_membership.party_id"

SQLITE = [
    f"""UPDATE party_membership SET source = (
    SELECT d.source FROM party_membership d
    WHERE {SAME_GRANT} AND d.source NOT IN {CERTIFICATE_SOURCES} ORDER BY d.id LIMIT 1)
WHERE source IN {CERTIFICATE_SOURCES} AND EXISTS (
    SELECT 1 FROM party_membership d
    WHERE {SAME_GRANT} AND d.source NOT IN {CERTIFICATE_SOURCES})""",
    """DELETE FROM party_membership WHERE id NOT IN (
    SELECT MIN(id) FROM party_membership GROUP BY person_id, party_id)""",
    'CREATE UNIQUE INDEX IF NOT EXISTS "uid_party_membe_person__d62331" '
    'ON "party_membership" ("person_id", "party_id")',
]


async def unique_membership_on_sqlite(apps, schema_editor) -> None:
    if schema_editor.client.capabilities.dialect != "sqlite":
        return
    for sql in SQLITE:
        if schema_editor.collect_sql:
            schema_editor.collected_sql.append(sql)
        else:
            await schema_editor.client.execute_query(sql)


async def nothing_to_undo(apps, schema_editor) -> None:
    """The index stays: the model declares it (0001), and the rows removed were duplicates."""


class Migration(migrations.Migration):
    dependencies = [('models', '0008_document_day_tally')]

    initial = False

    operations = [
        ops.RunPython(unique_membership_on_sqlite, nothing_to_undo),
    ]
