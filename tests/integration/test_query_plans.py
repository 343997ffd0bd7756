"""Cost that does not grow with the data (issue 12): every foreign key has an index, and the
documents list, its count and the lookup use indexes, on SQLite (`EXPLAIN QUERY PLAN`) and
PostgreSQL (`EXPLAIN (FORMAT JSON)` with sequential scans priced out, so the plan shows an
index exactly when one exists). A dropped index fails here, not in production."""

from __future__ import annotations

import json
from datetime import date

from tortoise import Tortoise
from tortoise.connection import connections
from tortoise.fields.relational import ForeignKeyFieldInstance, OneToOneFieldInstance
from tortoise.transactions import in_transaction

from models.documents import ClearanceDocument, DocumentFile
from models.letters import LetterAttachment, LetterEvent
from web.devdata.bench_data import bench_party, seed_documents
from web.documents.service import Period, page_ids, party_documents
from web.letters.service import public_history_query, tracked_letter_query


def _foreign_key_columns() -> list[tuple[str, str]]:
    columns = []
    for model in Tortoise.apps["models"].values():
        for field in model._meta.fields_map.values():
            if isinstance(field, ForeignKeyFieldInstance | OneToOneFieldInstance):
                columns.append(
                    (model._meta.db_table, field.source_field or f"{field.model_field_name}_id")
                )
    return sorted(set(columns))


async def _leading_index_columns(table: str) -> set[str]:
    """The first column of every index (unique constraints included) on `table`."""
    connection = connections.get("default")
    if connection.capabilities.dialect == "sqlite":
        _count, indexes = await connection.execute_query(f"PRAGMA index_list('{table}')")
        leading = set()
        for index in indexes:
            _count, info = await connection.execute_query(f"PRAGMA index_info('{index['name']}')")
            first = min(info, key=lambda column: column["seqno"])
            leading.add(first["name"])
        return leading
    _count, rows = await connection.execute_query(
        "SELECT a.attname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0] "
        "WHERE t.relname = $1",
        [table],
    )
    return {row["attname"] for row in rows}


async def test_every_foreign_key_leads_an_index(db):
    missing = [
        f"{table}.{column}"
        for table, column in _foreign_key_columns()
        if column not in await _leading_index_columns(table)
    ]
    assert not missing, "foreign keys without an index: " + ", ".join(missing)


async def _plans(*queries: str) -> list[str]:
    """The plans of `queries` as text, over 3,000 documents of two parties (seeded, vacuumed
    and analysed as autovacuum would, then removed; other tables keep no statistics):
    SQLite's EXPLAIN QUERY PLAN details, or PostgreSQL's JSON plan with sequential scans,
    bitmap scans and sorts priced out (on a small table the planner would rightly prefer them;
    priced out, it still picks them when no index fits)."""
    connection = connections.get("default")
    sqlite = connection.capabilities.dialect == "sqlite"
    seeded = [await bench_party(identifier) for identifier in ("9000000001", "9000000002")]
    try:
        for (party, person), count in zip(seeded, (2000, 1000), strict=True):
            await seed_documents(party, person, count, date(2026, 11, 30), with_files=False)
        # Only the seeded table: statistics of a tiny table (letters of the tests run before)
        # rightly price a scan below its index, which would hide nothing but fail here.
        await connection.execute_script(
            "ANALYZE clearance_document" if sqlite else "VACUUM ANALYZE clearance_document"
        )
        plans: list[str] = []
        async with in_transaction() as transaction:
            if not sqlite:
                for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                    await transaction.execute_script(f"SET LOCAL {setting} = off")
            for sql in queries:
                sql = sql.replace('party_id"=1', f'party_id"={seeded[0][0].id}')
                if sqlite:
                    _count, rows = await transaction.execute_query(f"EXPLAIN QUERY PLAN {sql}")
                    plans.append("\n".join(row["detail"] for row in rows))
                else:
                    _count, rows = await transaction.execute_query(f"EXPLAIN (FORMAT JSON) {sql}")
                    plan = rows[0]["QUERY PLAN"]
                    plans.append(plan if isinstance(plan, str) else json.dumps(plan))
        return plans
    finally:
        for party, person in seeded:
            await ClearanceDocument.filter(party=party).delete()
            await party.delete()
            await person.delete()


def _reads_only_the_index(plan: str) -> bool:
    """SQLite: a covering index, in the list's order. PostgreSQL: an index scan in the list's
    order (whether it may skip the table depends on the visibility map, which a shared test
    server's other transactions hold back: not assertable here)."""
    if plan.lstrip().startswith("["):
        return "Index Cond" in plan and "Seq Scan" not in plan and '"Sort"' not in plan
    return "COVERING INDEX" in plan and "TEMP B-TREE" not in plan


def _uses_an_index(plan: str) -> bool:
    if plan.lstrip().startswith("["):
        return "Index" in plan and "Seq Scan" not in plan and '"Sort"' not in plan
    return "USING" in plan and "INDEX" in plan and "TEMP B-TREE" not in plan


PERIOD = Period(date(2026, 1, 1), date(2026, 12, 31))


async def test_documents_count_and_page_ids_come_from_the_list_index(db):
    for period, include_mistaken in ((PERIOD, False), (None, False), (PERIOD, True)):
        query = party_documents(1, period, include_mistaken=include_mistaken)
        count_plan, ids_plan = await _plans(
            query.count().sql(params_inline=True), page_ids(query, 3).sql(params_inline=True)
        )
        assert _reads_only_the_index(count_plan), count_plan
        assert _reads_only_the_index(ids_plan), ids_plan


async def test_a_pages_files_and_a_letters_history_use_their_foreign_key_index(db):
    plans = await _plans(
        DocumentFile.filter(document_id__in=[1, 2, 3]).sql(params_inline=True),
        LetterEvent.filter(letter_id=1).sql(params_inline=True),
        LetterAttachment.filter(letter_id=1).sql(params_inline=True),
    )
    for plan in plans:
        assert _uses_an_index(plan), plan


async def test_the_letter_lookup_uses_indexes_only(db):
    """The citizen's lookup (by body, number and date, or by id) and the letter's history: the
    letter by its unique (body, number) key or its primary key, its body, unit, executor and
    attachments by theirs, with no sort (issue 12)."""
    by_key = tracked_letter_query(1, key=(1, "m-1024/2026", date(2026, 11, 3)))
    by_id = tracked_letter_query(1, letter_id=1)
    plans = await _plans(
        by_key.sql(params_inline=True),
        by_id.sql(params_inline=True),
        public_history_query(1).sql(params_inline=True),
    )
    for plan in plans:
        assert _uses_an_index(plan), plan
        assert "SCAN" not in plan.replace("Index Scan", "").replace("Index Only Scan", ""), plan
