"""Data at size for the benchmarks and the query-plan tests (issue 12): one party with many
documents, spread over the last three years, each with one file row.

The file rows name no stored file (`storage-check` would list them as missing): this data is
for a database of its own (`python -m web seed-bench`), never a real one."""

from __future__ import annotations

import secrets
from datetime import date, timedelta

from tortoise.backends.base.client import BaseDBAsyncClient

from models.documents import ClearanceDocument, DocumentFile, DocumentKind
from models.identity import Party, PartyKind, Person
from web.platform.portal_time import db_datetime, start_of_day

BATCH = 2000
SPREAD_DAYS = 3 * 365


async def bench_party(
    identifier: str, connection: BaseDBAsyncClient | None = None
) -> tuple[Party, Person]:
    party, _created = await Party.get_or_create(
        kind=PartyKind.COMPANY,
        identifier=identifier,
        defaults={"name": f"Benchmark MMC {identifier}"},
        using_db=connection,
    )
    person = await Person.filter(full_name=f"Benchmark {identifier}").using_db(connection).first()
    if person is None:
        person = await Person.create(full_name=f"Benchmark {identifier}", using_db=connection)
    return party, person


async def seed_documents(
    party: Party,
    person: Person,
    count: int,
    today: date,
    *,
    with_files: bool = True,
    spread_days: int = SPREAD_DAYS,
    connection: BaseDBAsyncClient | None = None,
) -> None:
    """`count` documents for `party`, newest today, evenly back over `spread_days` (three
    years: one every 16 minutes for 100,000). Their day tallies follow by themselves (the
    triggers of migration 0008, in the same transaction as each batch)."""
    step = timedelta(days=spread_days) / max(count, 1)
    newest = start_of_day(today) + timedelta(hours=12)
    for first in range(0, count, BATCH):
        documents = [
            ClearanceDocument(
                party=party,
                entered_by=person,
                kind=DocumentKind.INVOICE,
                number=f"INV-{n:07d}",
                issued_on=today,
                created_at=db_datetime(newest - step * n),
            )
            for n in range(first, min(first + BATCH, count))
        ]
        await ClearanceDocument.bulk_create(documents, using_db=connection)
        if not with_files:
            continue
        saved = await (
            ClearanceDocument.filter(party=party, number__in=[d.number for d in documents])
            .using_db(connection)
            .values_list("id", flat=True)
        )
        await DocumentFile.bulk_create(
            [
                DocumentFile(
                    document_id=document_id,
                    storage_key=secrets.token_hex(16),
                    original_name="invoice.pdf",
                    content_type="application/pdf",
                    size=1000,
                    sha256="0" * 64,
                )
                for document_id in saved
            ],
            using_db=connection,
        )
