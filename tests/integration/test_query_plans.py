"""Cost that does not grow with the data (issue 12): every foreign key has an index, and the
documents list, its count and the lookup use indexes, on SQLite (`EXPLAIN QUERY PLAN`) and
PostgreSQL (`EXPLAIN (FORMAT JSON)` with sequential scans priced out, so the plan shows an
index exactly when one exists). A dropped index fails here, not in production."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Awaitable
from datetime import date

from tortoise import Tortoise
from tortoise.connection import connections
from tortoise.fields.relational import ForeignKeyFieldInstance, OneToOneFieldInstance
from tortoise.transactions import in_transaction

from models.documents import ClearanceDocument, DocumentFile
from models.letters import LetterAttachment, LetterEvent
from web.devdata.bench_data import bench_party, seed_documents
from web.documents.service import (
    Period,
    page_ids,
    party_documents,
    party_page,
    seek_sql,
    tally_sum,
)
from web.letters.service import lookup_sql
from web.platform.portal_time import db_datetime, start_of_day


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
            "ANALYZE clearance_document; ANALYZE document_day_tally"
            if sqlite
            else "VACUUM ANALYZE clearance_document, document_day_tally"
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


async def test_a_periods_count_and_a_later_pages_seek_read_the_tally_index(db):
    """“Sayı” sums the day tallies through their (party, day) index; a later page finds its
    first day by a running sum over the same index and reads the page's ids from the end of
    that day in the list index."""
    before = db_datetime(start_of_day(date(2026, 11, 28)))
    for period in (PERIOD, None):
        query = party_documents(1, period).filter(created_at__lt=before)
        sum_plan, seek_plan, ids_plan = await _plans(
            tally_sum(1, period).sql(params_inline=True),
            seek_sql(1, period, 60, include_mistaken=False),
            page_ids(query, 1, 7).sql(params_inline=True),
        )
        assert _uses_an_index(sum_plan) and "document_day_tally" in sum_plan, sum_plan
        assert _uses_an_index(seek_plan) and "document_day_tally" in seek_plan, seek_plan
        assert _reads_only_the_index(ids_plan), ids_plan


async def test_the_letter_lookup_uses_indexes_only(db):
    """The citizen's lookup (by body, number and date, or by id), one statement: the letter
    by its unique (body, number) key or its primary key, its body, unit, executor and
    attachments by theirs, and its history by the (letter, at) index, with no sort
    (issue 12)."""
    dialect = connections.get("default").capabilities.dialect
    values = {"body_id": "1", "number_key": "'m-1024/2026'", "registered_on": "'2026-11-03'"}
    values |= {"id": "1", "applicant_id": "1"}

    def inline(sql: str) -> str:  # EXPLAIN takes no parameters: the values written in
        for name, value in values.items():
            sql = re.sub(rf'("letter"\."{name}"=)[?$]\d+', rf"\g<1>{value}", sql)
        assert "?" not in sql and "$" not in sql, sql
        return sql

    plans = await _plans(
        inline(lookup_sql(dialect, by_id=False)), inline(lookup_sql(dialect, by_id=True))
    )
    for plan in plans:
        assert _uses_an_index(plan), plan
        assert "SCAN" not in plan.replace("Index Scan", "").replace("Index Only Scan", ""), plan
        assert "event" in plan and "attachment" in plan, plan  # both parts, by index


# --------------------------------------------------------------------------- cost at size


async def _sqlite_steps(work: Awaitable[object]) -> int:
    """SQLite virtual-machine instructions `work` costs (counted in tens by a progress
    handler on each connection's own thread, the readers' too): stable, unlike a timing.
    The reads the loop would answer on its own connection (its progress handler is its time
    budget) go to the readers meanwhile, where they are counted."""
    client = connections.get("default")
    steps = itertools.count()

    def tick() -> int:
        next(steps)  # atomic under the GIL, whichever connection's thread calls it
        return 0  # go on

    inline, client.inline = client.inline, None
    await client.each_connection(lambda raw: raw.set_progress_handler(tick, 10))
    try:
        await work
    finally:
        await client.each_connection(lambda raw: raw.set_progress_handler(None, 10))
        client.inline = inline
    return next(steps) * 10


async def _postgres_rows_read(sql: str, values: list | None = None) -> int:
    """Rows PostgreSQL's plan nodes read to answer `sql` (EXPLAIN ANALYZE: rows returned
    plus rows removed by a filter, times loops, summed over the scans), sequential and
    bitmap scans priced out as in `_plans` (on tables this small the planner would rightly
    read them whole; at size it takes the index, whose reads are what this measures)."""
    async with in_transaction() as transaction:
        for setting in ("enable_seqscan", "enable_bitmapscan"):
            await transaction.execute_script(f"SET LOCAL {setting} = off")
        _count, rows = await transaction.execute_query(
            f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", values
        )
    plan = rows[0]["QUERY PLAN"]
    plan = json.loads(plan) if isinstance(plan, str) else plan

    def read(node) -> int:
        own = 0
        if "Scan" in node["Node Type"]:
            removed = node.get("Rows Removed by Filter", 0) + node.get(
                "Rows Removed by Index Recheck", 0
            )
            own = (node["Actual Rows"] + removed) * node["Actual Loops"]
        return own + sum(read(child) for child in node.get("Plans", []))

    return read(plan[0]["Plan"])


async def _cost(sqlite: bool, party_id: int, period: Period | None, page: int) -> int:
    """What page `page` of the party's list costs the database (page 0: counting the
    documents, as “Sayı” once did): SQLite VM steps for the whole call; on PostgreSQL the
    rows read by each statement the call runs (recorded, then run again under EXPLAIN)."""
    work = party_page(party_id, period, page) if page else party_documents(party_id, period).count()
    if sqlite:
        return await _sqlite_steps(work)
    client = type(connections.get("default"))
    statements: list[tuple[str, list | None]] = []
    originals = {name: getattr(client, name) for name in ("execute_query", "execute_query_dict")}

    def recording(original):
        async def run(self, query, values=None):
            statements.append((query, values))
            return await original(self, query, values)

        return run

    for name, original in originals.items():
        setattr(client, name, recording(original))
    try:
        await work
    finally:
        for name, original in originals.items():
            setattr(client, name, original)
    return sum([await _postgres_rows_read(sql, values) for sql, values in statements])


async def test_a_search_costs_the_same_for_400_and_8000_documents(db):
    """Page 1 and page 7 of a year's search and of every year, for a party with 400 and one
    with 8,000 documents over the same year (every day has some): the same work within a
    quarter. The control — counting the documents themselves, as “Sayı” did — grows ~20×,
    so the measure would see it."""
    connection = connections.get("default")
    sqlite = connection.capabilities.dialect == "sqlite"
    today = date(2026, 11, 30)
    seeded = [await bench_party(identifier) for identifier in ("9000000011", "9000000012")]
    try:
        for (party, person), count in zip(seeded, (400, 8000), strict=True):
            await seed_documents(party, person, count, today, with_files=False, spread_days=365)
        if not sqlite:
            await connection.execute_script("VACUUM ANALYZE clearance_document, document_day_tally")
        costs: dict[str, list[int]] = {}
        for party, _person in seeded:
            for name, period, page in (
                ("year p1", PERIOD, 1),
                ("year p7", PERIOD, 7),
                ("all p1", None, 1),
                ("all p7", None, 7),
                ("control", PERIOD, 0),
            ):
                costs.setdefault(name, []).append(await _cost(sqlite, party.id, period, page))
        control = costs.pop("control")
        print("cost (400 vs 8,000 documents):", costs, "counting the documents:", control)
        assert control[1] > 10 * control[0], control
        for name, (small, big) in costs.items():
            assert big <= 1.25 * small + 50, (name, small, big, costs)
    finally:
        for party, person in seeded:
            await ClearanceDocument.filter(party=party).delete()
            await party.delete()
            await person.delete()
