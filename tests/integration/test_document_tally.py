"""The documents' day tallies (issue 12): a period's “Sayı” sums them, so they must equal a
count of the documents after every kind of write — the service's, bulk seeding's, a direct
update, two writers at once — and for a period's first and last Baku day. A later page is
found through them, so it must hold what OFFSET paging over the documents would."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, date, datetime, timedelta

from tortoise.transactions import in_transaction

from models.documents import ClearanceDocument, DocumentDayTally, DocumentKind
from models.identity import Party, Person
from web.devdata.bench_data import bench_party, seed_documents
from web.documents.service import (
    PAGE_SIZE,
    Period,
    mark_mistaken,
    page_ids,
    party_documents,
    party_page,
    period_count,
)
from web.documents.tally import differences, rebuild
from web.platform.portal_time import PORTAL_TIME_ZONE, db_datetime

TODAY = date(2026, 11, 30)


async def _new_document(party: Party, person: Person, at: datetime | None = None, **using):
    document = await ClearanceDocument.create(
        party=party,
        entered_by=person,
        kind=DocumentKind.INVOICE,
        number="T-1",
        issued_on=TODAY,
        **using,
    )
    if at is not None:  # `created_at` is set on insert: move it the way a hand edit would
        await (
            ClearanceDocument.filter(id=document.id)
            .using_db(using.get("using_db"))
            .update(created_at=db_datetime(at))
        )
    return document


async def _remove(*seeded: tuple[Party, Person]) -> None:
    for party, _person in seeded:
        await ClearanceDocument.filter(party=party).delete()
    for party, person in seeded:
        await party.delete()  # its (now zero) tallies go with it
        await person.delete()


async def _counts_agree(party: Party, period: Period | None) -> None:
    for include_mistaken in (False, True):
        query = party_documents(party.id, period, include_mistaken=include_mistaken)
        counted = await query.count()
        assert await period_count(party.id, period, include_mistaken=include_mistaken) == counted


async def test_the_tally_follows_inserts_deletes_marks_moves_and_saves(db):
    seeded = [await bench_party(identifier) for identifier in ("9100000001", "9100000002")]
    (party, person), (other, _other_person) = seeded
    try:
        await seed_documents(party, person, 300, TODAY, with_files=False, spread_days=20)
        single = await _new_document(party, person)
        assert await differences() == []
        assert await period_count(party.id, None, include_mistaken=True) == 301

        ids = await ClearanceDocument.filter(party=party).order_by("id").values_list("id")
        ids = [document_id for (document_id,) in ids]
        await ClearanceDocument.filter(id__in=ids[:40]).delete()
        for document_id in ids[40:60]:
            await mark_mistaken(await ClearanceDocument.get(id=document_id), person, "typo")
        # Another day, another party, the mark taken off again, and a save() that rewrites
        # every column with the same values (the update trigger must not count it twice).
        await ClearanceDocument.filter(id=ids[60]).update(
            created_at=db_datetime(datetime(2025, 1, 1, 10, tzinfo=UTC))
        )
        await ClearanceDocument.filter(id=ids[61]).update(party_id=other.id)
        await ClearanceDocument.filter(id=ids[40]).update(mistaken_at=None)
        single.note = "changed"
        await single.save()

        assert await differences() == []
        for period in (None, Period(TODAY - timedelta(days=9), TODAY), Period(TODAY, TODAY)):
            await _counts_agree(party, period)
        await _counts_agree(other, None)
        assert await period_count(party.id, None, include_mistaken=True) == 301 - 40 - 1
        assert await period_count(party.id, None, include_mistaken=False) == 301 - 40 - 1 - 19
    finally:
        await _remove(*seeded)
    assert await DocumentDayTally.filter(party_id=party.id).count() == 0


async def test_two_writers_at_once_both_count(db):
    """Two transactions insert on the same party and day, interleaved (on PostgreSQL two
    connections: the first insert of a day races for the tally row; ON CONFLICT settles it)."""
    party, person = seeded = await bench_party("9100000003")
    noon = datetime(2026, 11, 30, 12, tzinfo=PORTAL_TIME_ZONE)
    try:

        async def writer() -> None:
            async with in_transaction() as connection:
                for _ in range(15):
                    await _new_document(party, person, noon, using_db=connection)
                    await asyncio.sleep(0)

        await asyncio.gather(writer(), writer())
        assert await period_count(party.id, Period(TODAY, TODAY), include_mistaken=True) == 30
        assert await differences() == []
    finally:
        await _remove(seeded)


async def test_a_periods_count_takes_whole_baku_days_both_ends(db):
    party, person = seeded = await bench_party("9100000004")
    baku = PORTAL_TIME_ZONE
    inside = [
        datetime(2026, 3, 10, 0, 0, tzinfo=baku),  # the first moment of the first day
        datetime(2026, 3, 9, 20, 0, 30, tzinfo=UTC),  # UTC's 9 March, Baku's 10th
        datetime(2026, 3, 12, 23, 59, 59, 999000, tzinfo=baku),  # the last day's end
        datetime(2026, 3, 12, 19, 59, 59, tzinfo=UTC),
    ]
    outside = [
        datetime(2026, 3, 9, 23, 59, 59, 999000, tzinfo=baku),
        datetime(2026, 3, 9, 19, 59, 59, tzinfo=UTC),
        datetime(2026, 3, 13, 0, 0, tzinfo=baku),
        datetime(2026, 3, 12, 20, 0, tzinfo=UTC),  # UTC's 12 March, Baku's 13th
    ]
    try:
        for at in inside + outside:
            await _new_document(party, person, at)
        period = Period(date(2026, 3, 10), date(2026, 3, 12))
        assert await period_count(party.id, period, include_mistaken=True) == len(inside)
        await _counts_agree(party, period)
        for day in (date(2026, 3, 9), date(2026, 3, 10), date(2026, 3, 12), date(2026, 3, 13)):
            await _counts_agree(party, Period(day, day))
        assert await differences() == []
    finally:
        await _remove(seeded)


async def test_every_page_holds_what_offset_paging_would(db):
    """A later page starts on the day the tallies point to; it must be exactly the page
    OFFSET over the documents gives, with and without the ones marked by mistake."""
    party, person = seeded = await bench_party("9100000005")
    try:
        await seed_documents(party, person, 230, TODAY, with_files=False, spread_days=10)
        ids = await ClearanceDocument.filter(party=party).values_list("id", flat=True)
        await ClearanceDocument.filter(id__in=ids[::7]).update(
            mistaken_at=db_datetime(datetime.now(UTC))
        )
        for period in (None, Period(TODAY - timedelta(days=6), TODAY - timedelta(days=2))):
            for include_mistaken in (False, True):
                query = party_documents(party.id, period, include_mistaken=include_mistaken)
                total = await query.count()
                pages = -(-total // PAGE_SIZE)
                assert pages >= 3
                for number in range(1, pages + 2):  # and one past the last
                    page = await party_page(
                        party.id, period, number, include_mistaken=include_mistaken
                    )
                    expected = list(await page_ids(query, min(number, pages)))
                    assert [document.id for document in page.items] == expected, number
                    assert (page.total, page.number) == (total, min(number, pages))
    finally:
        await _remove(seeded)


async def test_tally_check_finds_and_repairs_drift(db):
    """Drift needs something that goes around the triggers: here, a hand edit."""
    party, person = seeded = await bench_party("9100000006")
    try:
        await seed_documents(party, person, 40, TODAY, with_files=False, spread_days=4)
        tally = await DocumentDayTally.filter(party=party).order_by("day").first()
        await DocumentDayTally.filter(id=tally.id).update(documents=tally.documents + 5)
        [difference] = await differences()
        assert (difference.party_id, difference.day) == (party.id, str(tally.day))
        assert difference.tallied[0] == difference.counted[0] + 5
        await rebuild()
        assert await differences() == []
        await _counts_agree(party, None)
    finally:
        await _remove(seeded)


_MIGRATE_TO = (  # as web.platform.db.migrate, up to a target
    "import asyncio, sys\n"
    "from tortoise import Tortoise\n"
    "from tortoise.migrations.api.migrate import migrate\n"
    "from web.platform.db import tortoise_config\n"
    "from web.settings import get_settings\n"
    "async def main():\n"
    "    try:\n"
    "        await migrate(config=tortoise_config(get_settings()), target=sys.argv[1])\n"
    "    finally:\n"
    "        await Tortoise.close_connections()\n"
    "asyncio.run(main())\n"
)
_MARK_SOME_MISTAKEN = (
    "import asyncio\n"
    "from tortoise import Tortoise\n"
    "from web.platform import db\n"
    "from web.settings import get_settings\n"
    "async def main():\n"
    "    await db.init_db(get_settings())\n"
    "    client = Tortoise.get_connection('default')\n"
    "    await client.execute_script(\n"
    "        'UPDATE clearance_document SET mistaken_at = created_at WHERE id % 7 = 0')\n"
    "    await db.close_db()\n"
    "asyncio.run(main())\n"
)


def test_migration_0008_backfills_the_tallies_of_existing_documents(tmp_path, settings):
    """A database with documents from before the tallies (migrated up to 0007, seeded, some
    marked by mistake), then `python -m web migrate`: tally-check finds every day right."""
    import subprocess
    import sys

    from tests.support.database import provision_postgres_database

    own = provision_postgres_database() if not settings.uses_sqlite else None
    env = {**os.environ, "ENV": "development", "DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
    env["DATABASE_URL"] = own.url if own else ""
    try:

        def run(*args: str) -> subprocess.CompletedProcess:
            done = subprocess.run(
                [sys.executable, *args], env=env, capture_output=True, text=True, timeout=60
            )
            return done

        assert run("-c", _MIGRATE_TO, "models.0007_stored_files").returncode == 0
        assert run("-m", "web", "seed-bench", "9100000007", "500").returncode == 0
        assert run("-c", _MARK_SOME_MISTAKEN).returncode == 0
        before = run("-m", "web", "tally-check")
        assert before.returncode != 0  # no tally table yet
        assert run("-m", "web", "migrate").returncode == 0
        after = run("-m", "web", "tally-check")
        assert after.returncode == 0, after.stdout + after.stderr
        assert "0 day(s) differ" in after.stdout
    finally:
        if own:
            own.drop()
