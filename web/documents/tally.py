"""The documents' day tallies against the documents: `python -m web tally-check [--repair]`.

Database triggers (migration 0008) move a party's day tally in the same transaction as every
insert, delete and change of a document's party, entry time or “mistaken” mark, whoever
writes it, so in normal operation the tallies cannot drift. They can only when something
goes around the triggers: a hand edit of `document_day_tally`, triggers disabled (PostgreSQL
`session_replication_role = replica`, `ALTER TABLE … DISABLE TRIGGER`), a partial restore of
one table but not the other, or a change of the portal's time zone (the tallies' days are
Baku days). This check counts the documents again (reading every one: an operator's command,
not a page) and lists the days that differ; `--repair` rebuilds the tallies from the
documents in one transaction that holds off document writes meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import connections
from tortoise.transactions import in_transaction

from web.platform.portal_time import TIME_ZONE_NAME


@dataclass(frozen=True)
class Difference:
    party_id: int
    day: str  # YYYY-MM-DD
    tallied: tuple[int, int]  # (documents, of them mistaken) in document_day_tally
    counted: tuple[int, int]  # the same counted from clearance_document


def _day_sql(connection: BaseDBAsyncClient) -> str:
    """The day the period filter puts a document in (as migration 0008's triggers compute it)."""
    if connection.capabilities.dialect == "sqlite":
        return "substr(created_at, 1, 10)"
    return f"(created_at AT TIME ZONE '{TIME_ZONE_NAME}')::date"


def _counting_sql(connection: BaseDBAsyncClient) -> str:
    day = _day_sql(connection)  # a constant: nothing from outside goes into this SQL
    return (
        f"SELECT party_id, {day} AS day, COUNT(*) AS documents, "  # noqa: S608
        "COUNT(mistaken_at) AS mistaken FROM clearance_document GROUP BY 1, 2"
    )


async def differences(connection: BaseDBAsyncClient | None = None) -> list[Difference]:
    """Every (party, day) whose tally is not what counting the documents gives."""
    connection = connection or connections.get("default")
    _n, counted_rows = await connection.execute_query(_counting_sql(connection))
    _n, tally_rows = await connection.execute_query(
        "SELECT party_id, day, documents, mistaken FROM document_day_tally"
    )
    counted = {
        (row["party_id"], str(row["day"])): (row["documents"], row["mistaken"])
        for row in counted_rows
    }
    tallied = {
        (row["party_id"], str(row["day"])): (row["documents"], row["mistaken"])
        for row in tally_rows
    }
    found = []
    for key in sorted(counted.keys() | tallied.keys()):
        have, want = tallied.get(key, (0, 0)), counted.get(key, (0, 0))
        if have != want:
            found.append(Difference(key[0], key[1], have, want))
    return found


async def rebuild() -> None:
    """Replace every tally with a fresh count, writers of documents held off meanwhile."""
    async with in_transaction() as transaction:
        if transaction.capabilities.dialect != "sqlite":  # SQLite: one writer at a time
            await transaction.execute_script("LOCK TABLE clearance_document IN SHARE MODE")
        await transaction.execute_script("DELETE FROM document_day_tally")
        await transaction.execute_script(
            "INSERT INTO document_day_tally (party_id, day, documents, mistaken) "
            + _counting_sql(transaction)
        )
