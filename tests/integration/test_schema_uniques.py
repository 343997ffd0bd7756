"""Every unique the models declare is enforced by the migrated database, on SQLite and
PostgreSQL. SQLite alters a column by rebuilding its table, and Tortoise's rebuild kept
the columns but not the table's UNIQUE constraint: `party_membership` lost its
(person, party) unique on SQLite in 0005 (0009 puts it back). A model and its database
that disagree fail here, not as duplicate rows in production."""

from __future__ import annotations

import os

import pytest
from tortoise import Tortoise
from tortoise.connection import connections
from tortoise.exceptions import IntegrityError

from models.identity import MembershipSource, PartyMembership, Person


def _column(model, name: str) -> str:
    field = model._meta.fields_map[name]
    return getattr(field, "source_field", None) or model._meta.fields_db_projection[name]


def _declared_uniques() -> list[tuple[str, frozenset[str]]]:
    """(table, columns) of every `unique_together` and every unique field (not the key)."""
    declared = []
    for model in Tortoise.apps["models"].values():
        meta = model._meta
        for names in meta.unique_together or ():
            declared.append((meta.db_table, frozenset(_column(model, name) for name in names)))
        for name, field in meta.fields_map.items():
            if field.unique and not field.pk and name in meta.fields_db_projection:
                declared.append((meta.db_table, frozenset({meta.fields_db_projection[name]})))
    return sorted(set(declared), key=lambda item: (item[0], sorted(item[1])))


async def _unique_indexes(table: str) -> set[frozenset[str]]:
    """The column sets of the table's unique indexes (UNIQUE constraints included)."""
    connection = connections.get("default")
    if connection.capabilities.dialect == "sqlite":
        _count, indexes = await connection.execute_query(f"PRAGMA index_list('{table}')")
        found = set()
        for index in indexes:
            if index["unique"]:
                _count, info = await connection.execute_query(
                    f"PRAGMA index_info('{index['name']}')"
                )
                found.add(frozenset(column["name"] for column in info))
        return found
    _count, rows = await connection.execute_query(
        "SELECT array_agg(a.attname::text) AS columns FROM pg_index i "
        "JOIN pg_class t ON t.oid = i.indrelid "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ANY(i.indkey) "
        "WHERE t.relname = $1 AND i.indisunique GROUP BY i.indexrelid",
        [table],
    )
    return {frozenset(row["columns"]) for row in rows}


async def test_every_declared_unique_is_enforced(db):
    declared = _declared_uniques()
    assert ("party_membership", frozenset({"person_id", "party_id"})) in declared
    missing = [
        f"{table} ({', '.join(sorted(columns))})"
        for table, columns in declared
        if columns not in await _unique_indexes(table)
    ]
    assert not missing, "declared unique, not enforced: " + "; ".join(missing)


async def test_a_person_cannot_be_made_a_member_of_the_same_party_twice(db):
    from web.devdata.bench_data import bench_party

    party, _person = await bench_party("9000000077")
    other = await Person.create(fin="9ZZZZ77", full_name="Unique Test")
    try:
        await PartyMembership.create(person=other, party=party, source=MembershipSource.ADMIN)
        with pytest.raises(IntegrityError):
            await PartyMembership.create(person=other, party=party, source=MembershipSource.SEED)
        assert await PartyMembership.filter(person=other, party=party).count() == 1
    finally:
        await PartyMembership.filter(person=other).delete()
        await other.delete()


def test_migrating_an_sqlite_database_with_duplicate_grants_keeps_one_each(tmp_path, settings):
    """An SQLite database as 0008 left it, with duplicate grants written meanwhile, then
    `python -m web migrate`: one row each is left, the oldest, and a seed/admin grant's
    source wins over a certificate's; afterwards a duplicate is refused."""
    import sqlite3
    import subprocess
    import sys

    from tests.integration.test_document_tally import _MIGRATE_TO

    if not settings.uses_sqlite:
        pytest.skip("PostgreSQL kept the constraint: duplicates could not be written there")
    env = {**os.environ, "ENV": "development", "DATA_DIR": str(tmp_path), "LOG_LEVEL": "WARNING"}
    env["DATABASE_URL"] = ""

    def run(*args: str) -> None:
        done = subprocess.run(
            [sys.executable, *args], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stdout + done.stderr

    run("-c", _MIGRATE_TO, "models.0008_document_day_tally")
    database = sqlite3.connect(tmp_path / "egomruk.sqlite3", isolation_level=None)
    database.execute(
        "INSERT INTO party (kind, identifier, name, created_at, updated_at) "
        "VALUES ('company', 'X1', 'X', '2026-12-01', '2026-12-01')"
    )
    for person in ("A", "B"):
        database.execute(
            "INSERT INTO person (full_name, created_at, updated_at) "
            "VALUES (?, '2026-12-01', '2026-12-01')",
            (person,),
        )
    grants = [
        ("A", "asan_certificate"),  # the oldest of A's: kept, takes "admin" from a later one
        ("A", "e_imza_certificate"),
        ("A", "admin"),
        ("A", "seed"),
        ("B", "e_imza_certificate"),  # the oldest of B's: kept as it is
        ("B", "asan_certificate"),
    ]
    for person, source in grants:
        database.execute(
            "INSERT INTO party_membership (person_id, party_id, source, granted_at) "
            "SELECT person.id, party.id, ?, '2026-12-01' FROM person, party "
            "WHERE person.full_name = ? AND party.identifier = 'X1'",
            (source, person),
        )
    run("-m", "web", "migrate")
    left = database.execute(
        "SELECT person.full_name, m.source FROM party_membership m "
        "JOIN person ON person.id = m.person_id ORDER BY m.id"
    ).fetchall()
    assert left == [("A", "admin"), ("B", "e_imza_certificate")]
    with pytest.raises(sqlite3.IntegrityError):
        database.execute(
            "INSERT INTO party_membership (person_id, party_id, source, granted_at) "
            "SELECT person_id, party_id, 'seed', granted_at FROM party_membership LIMIT 1"
        )
    database.close()
