"""Service “Rəsmiləşdirmə üçün tələb olunan sənədlərin surətləri”: the domain rules.

* A party's documents are listed by the day they were *entered* (the manual: “the period in
  which they were entered”), in calendar days of Asia/Baku, both ends inclusive, newest first.
* “Yeni sənəd” needs the party's acknowledgment of “Öhdəlik forması” (once per party).
* A document is never deleted within the retention period; its owner may mark it
  “Səhvən daxil edilib” with a reason. It then leaves the default list but stays stored and
  visible to customs officers.
* A party's files together stay within its quota.
* Every access by a customs officer is written to the audit log.

Controllers call these functions; nothing here knows about HTTP.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from math import ceil
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.connection import connections
from tortoise.exceptions import IntegrityError
from tortoise.functions import Count, Sum

from models.documents import (
    AuditAction,
    AuditEntry,
    ClearanceDocument,
    DocumentDayTally,
    DocumentFile,
    DocumentKind,
    ObligationAcknowledgment,
)
from models.identity import Party, Person
from web.platform.forms import (
    DATE_PARTS,
    Problem,
    date_from_text,
    date_parts,
    parts_of,
    read_date,
)
from web.platform.i18n import lazy_gettext as _l
from web.platform.idempotency import AlreadySaved
from web.platform.portal_time import db_datetime, start_of_day, utcnow
from web.storage.batch import UploadBatch, files_then_rows
from web.storage.quota import check_quota, lock_owner

DEFAULT_PERIOD_DAYS = 30
PAGE_SIZE = 20
NUMBER_MAX = 100
NOTE_MAX = 500
REASON_MAX = 500

KIND_LABELS = {
    DocumentKind.INVOICE: _l("Invoice"),
    DocumentKind.TRADE_CONTRACT: _l("Foreign trade contract"),
    DocumentKind.TRANSPORT: _l("Transport document (CMR, bill of lading, air waybill)"),
    DocumentKind.ORIGIN_CERTIFICATE: _l("Certificate of origin"),
    DocumentKind.PACKING_LIST: _l("Packing list"),
    DocumentKind.CONFORMITY: _l("Certificate of conformity / permit"),
    DocumentKind.OTHER: _l("Other"),
}

# A customs declaration number: customs post code / date (DDMMYY) / serial number.
# Adjust here if a deployment uses another format.
DECLARATION_NUMBER_RE = re.compile(r"\A[0-9]{8}/[0-9]{6}/[0-9]{7}\Z")
DECLARATION_NUMBER_EXAMPLE = "10200010/031126/0001234"


# --------------------------------------------------------------------------- time


@dataclass(frozen=True)
class Period:
    """Calendar days in Asia/Baku, both ends inclusive."""

    start: date
    end: date

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        """[start of the first day, start of the day after the last) as aware datetimes."""
        after = start_of_day(self.end + timedelta(days=1))
        return db_datetime(start_of_day(self.start)), db_datetime(after)


def default_period(today: date) -> Period:
    """The last 30 days: today and the 29 before it."""
    return Period(today - timedelta(days=DEFAULT_PERIOD_DAYS - 1), today)


def period_parts(query: Any, name: str) -> dict[str, str]:
    """The day, month and year of `from` or `to` in a search's query: the three-field date
    (`from-day`…), or an older link's single `from=YYYY-MM-DD` (bookmarks, benchmarks)."""
    parts = date_parts(query, name)
    single = str(query.get(name, "")).strip()[:20]
    if not any(parts.values()) and single:
        value = date_from_text(single)
        if value:
            return parts_of(value)
        pieces = [*re.split(r"[-./]", single), "", ""][:3]  # checked as typed, part by part
        day, month, year = reversed(pieces) if len(pieces[0]) == 4 else pieces
        return {"day": day, "month": month, "year": year}
    return parts


def parse_period(
    from_parts: dict[str, str], to_parts: dict[str, str], today: date, *, optional: bool = False
) -> tuple[Period | None, list[Problem]]:
    """The period a search asks for (two three-field dates), or its problems (inputs `from`,
    `to`). Nothing typed: the last 30 days (or no period at all when `optional`)."""
    if not any(from_parts.values()) and not any(to_parts.values()):
        return (None if optional else default_period(today)), []
    start, from_problem = read_date(from_parts, "from", missing="from_missing")
    end, to_problem = read_date(to_parts, "to", missing="to_missing")
    problems = [problem for problem in (from_problem, to_problem) if problem]
    if start and end and start > end:
        problems.append(Problem("period_reversed", "to", {"parts": DATE_PARTS}))
    if problems:
        return None, problems
    return Period(start, end), []  # type: ignore[arg-type]


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class Page:
    items: list[ClearanceDocument]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def pages(self) -> int:
        return max(1, ceil(self.total / self.size))


def _in_period(query, period: Period | None):
    if period is None:
        return query
    first, after = period.bounds
    return query.filter(created_at__gte=first, created_at__lt=after)


def page_ids(query, number: int, skip: int | None = None):
    """The ids of page `number` (or after `skip` documents), newest first: read from the
    (party, entered, id) index backwards, no table rows."""
    return (
        query.order_by("-created_at", "-id")
        .offset((number - 1) * PAGE_SIZE if skip is None else skip)
        .limit(PAGE_SIZE)
        .values_list("id", flat=True)
    )


async def _rows_of(ids: list[int], *, with_party: bool = False) -> list[ClearanceDocument]:
    """The page's documents with their file counts, in the order of `ids`."""
    if not ids:
        return []
    rows = ClearanceDocument.filter(id__in=ids).annotate(file_count=Count("files"))
    if with_party:
        rows = rows.prefetch_related("party")
    by_id = {document.id: document for document in await rows}
    return [by_id[id_] for id_ in ids]


async def _page(query, page: int, *, with_party: bool = False) -> Page:
    """One page of a search that is not one party's (a declaration number's documents: few,
    read through its index): counted, then the page's ids, then their rows."""
    total = await query.count()
    number = min(max(page, 1), max(1, ceil(total / PAGE_SIZE)))
    ids = list(await page_ids(query, number))
    return Page(items=await _rows_of(ids, with_party=with_party), total=total, number=number)


def party_documents(party_id: int, period: Period | None, *, include_mistaken: bool = False):
    """The owner's list as a query (its plan is checked in tests/integration/test_query_plans)."""
    query = ClearanceDocument.filter(party_id=party_id)
    if not include_mistaken:
        query = query.filter(mistaken_at__isnull=True)
    return _in_period(query, period)


def party_tallies(party_id: int, period: Period | None):
    """The party's day tallies within the period (at most one row a day)."""
    query = DocumentDayTally.filter(party_id=party_id)
    if period is None:
        return query
    return query.filter(day__gte=period.start, day__lte=period.end)


def tally_sum(party_id: int, period: Period | None):
    """“Sayı” as one row: documents and those of them marked by mistake, summed by day."""
    return (
        party_tallies(party_id, period)
        .annotate(documents_sum=Sum("documents"), mistaken_sum=Sum("mistaken"))
        .values("documents_sum", "mistaken_sum")
    )


async def period_count(party_id: int, period: Period | None, *, include_mistaken: bool) -> int:
    """How many documents the party entered in the period, from the day tallies: the cost
    is one index entry per day with documents, whatever the number of documents."""
    [row] = await tally_sum(party_id, period)
    documents = row["documents_sum"] or 0
    return documents if include_mistaken else documents - (row["mistaken_sum"] or 0)


def seek_sql(party_id: int, period: Period | None, skip: int, *, include_mistaken: bool) -> str:
    """SQL for the period's newest days with documents to show, and how many each, as many
    as can hold the first `skip + 1` documents (each has at least one): newest first, from
    the (party, day) index. Plain rows, not models: building models for up to a few thousand
    days cost more than the OFFSET it saves. (The values are an int and dates, ours.)"""
    shown = "documents" if include_mistaken else "documents - mistaken"
    within = (
        f"AND day >= '{period.start.isoformat()}' AND day <= '{period.end.isoformat()}' "
        if period is not None
        else ""
    )
    return (
        f"SELECT day, {shown} AS shown FROM document_day_tally "  # noqa: S608 - typed values
        f'WHERE "party_id"={int(party_id)} {within}AND {shown} > 0 '
        f"ORDER BY day DESC LIMIT {int(skip) + 1}"
    )


async def seek_page_ids(
    query, party_id: int, period: Period | None, skip: int, *, include_mistaken: bool
) -> list[int]:
    """The ids of the page after `skip` documents: the newer days are passed whole (their
    counts come from the tallies), so the list index is read only from the end of the day
    the page starts on."""
    sql = seek_sql(party_id, period, skip, include_mistaken=include_mistaken)
    _n, days = await connections.get("default").execute_query(sql)
    for row in days:
        if skip < row["shown"]:
            day = row["day"] if isinstance(row["day"], date) else date.fromisoformat(row["day"])
            before = db_datetime(start_of_day(day + timedelta(days=1)))
            return list(await page_ids(query.filter(created_at__lt=before), 1, skip))
        skip -= row["shown"]
    return list(await page_ids(query, 1, skip))  # only when the tallies fell short (drift)


async def party_page(
    party_id: int,
    period: Period | None,
    page: int,
    *,
    include_mistaken: bool = False,
    with_party: bool = False,
) -> Page:
    """One page of one party's documents, newest first, at a cost that grows with neither
    the party's documents nor the page number: the count sums the day tallies; page 1 reads
    its 20 ids from the end of the (party, entered, id) index; a later page finds in the
    tallies the day its first document was entered on and skips only within that day."""
    query = party_documents(party_id, period, include_mistaken=include_mistaken)
    total = await period_count(party_id, period, include_mistaken=include_mistaken)
    number = min(max(page, 1), max(1, ceil(total / PAGE_SIZE)))
    skip = (number - 1) * PAGE_SIZE
    if not total:
        ids = []
    elif not skip:
        ids = list(await page_ids(query, 1))
    else:
        ids = await seek_page_ids(query, party_id, period, skip, include_mistaken=include_mistaken)
    return Page(items=await _rows_of(ids, with_party=with_party), total=total, number=number)


async def list_documents(
    party: Party, period: Period, *, page: int = 1, include_mistaken: bool = False
) -> Page:
    return await party_page(party.id, period, page, include_mistaken=include_mistaken)


async def _with_details(document: ClearanceDocument | None) -> ClearanceDocument | None:
    if document is not None:
        await document.fetch_related("files", "entered_by", "mistaken_by", "party")
    return document


async def document_of_party(party: Party, document_id: int) -> ClearanceDocument | None:
    """The party's own document, or None (another party's id looks exactly like a missing one)."""
    return await _with_details(await ClearanceDocument.get_or_none(id=document_id, party=party))


async def file_of_document(document: ClearanceDocument, file_id: int) -> DocumentFile | None:
    return await DocumentFile.get_or_none(id=file_id, document=document)


# --------------------------------------------------------------------------- obligation


async def acknowledgment_of(party: Party) -> ObligationAcknowledgment | None:
    return await ObligationAcknowledgment.get_or_none(party=party).prefetch_related("person")


async def acknowledge_obligation(
    party: Party, person: Person, retention_years: int
) -> ObligationAcknowledgment:
    """Record “Tanış oldum” once; a second press keeps the first record."""
    acknowledgment, _created = await ObligationAcknowledgment.get_or_create(
        party=party, defaults={"person": person, "retention_years": retention_years}
    )
    return acknowledgment


# --------------------------------------------------------------------------- new document


@dataclass(frozen=True)
class DocumentDetails:
    kind: DocumentKind
    number: str
    issued_on: date
    declaration_number: str | None
    note: str | None


def normalize_declaration_number(raw: str) -> str:
    return "".join(raw.split()).upper()


def validate_details(
    values: dict[str, Any], today: date
) -> tuple[DocumentDetails | None, list[Problem]]:
    """Check the typed fields of “Yeni sənəd” (`issued_on` as `{day, month, year}`); the
    problems come in form order."""
    problems: list[Problem] = []
    kind = values.get("kind", "")
    if kind not in DocumentKind._value2member_map_:
        problems.append(Problem("kind_missing", "kind"))
    number = values.get("number", "")
    if not number:
        problems.append(Problem("number_missing", "number"))
    elif len(number) > NUMBER_MAX:
        problems.append(Problem("number_too_long", "number", {"max": NUMBER_MAX}))
    issued_on, date_problem = read_date(
        values.get("issued_on") or {}, "issued_on", missing="issued_on_missing"
    )
    if date_problem:
        problems.append(date_problem)
    elif issued_on > today:  # type: ignore[operator]
        problems.append(Problem("issued_on_future", "issued_on"))
    declaration = normalize_declaration_number(values.get("declaration_number", ""))
    if declaration and not DECLARATION_NUMBER_RE.match(declaration):
        problems.append(
            Problem(
                "declaration_number_invalid",
                "declaration_number",
                {"example": DECLARATION_NUMBER_EXAMPLE},
            )
        )
    note = values.get("note", "")
    if len(note) > NOTE_MAX:
        problems.append(Problem("note_too_long", "note", {"max": NOTE_MAX}))
    if problems:
        return None, problems
    return DocumentDetails(
        kind=DocumentKind(kind),
        number=number,
        issued_on=issued_on,  # type: ignore[arg-type]
        declaration_number=declaration or None,
        note=note or None,
    ), []


def reason_problems(reason: str) -> list[Problem]:
    """Why a “Səhvən daxil edilib” reason cannot be kept: missing or too long."""
    if not reason:
        return [Problem("reason_missing", "reason")]
    if len(reason) > REASON_MAX:
        return [Problem("reason_too_long", "reason", {"max": REASON_MAX})]
    return []


async def used_bytes(party: Party, connection: BaseDBAsyncClient | None = None) -> int:
    """Bytes stored for the party. (Summed here: Tortoise 1.x's `annotate(Sum)` over a joined
    filter groups per row and returned a single file's size.)"""
    sizes = (
        await DocumentFile.filter(document__party_id=party.id)
        .using_db(connection)
        .values_list("size", flat=True)
    )
    return sum(sizes)


async def _saved_with(
    party: Party, idempotency_key: str | None, connection: BaseDBAsyncClient | None = None
) -> ClearanceDocument | None:
    if idempotency_key is None:
        return None
    query = ClearanceDocument.filter(party=party, idempotency_key=idempotency_key)
    return await query.using_db(connection).first()


async def create_document(
    party: Party,
    person: Person,
    details: DocumentDetails,
    batch: UploadBatch,
    quota_bytes: int,
    idempotency_key: str | None = None,
) -> ClearanceDocument:
    """Save the document and its staged files (`files_then_rows`: each file durable in its
    place before the rows naming it commit). Raises `QuotaExceeded` before anything is
    written. The same `idempotency_key` again returns the document saved with it, and saves
    nothing (also when both arrive at once: the party's row is locked first, and the
    database's unique constraint holds if anything slips past)."""
    try:
        async with files_then_rows(batch) as connection:
            await lock_owner(connection, party)
            if saved := await _saved_with(party, idempotency_key, connection):
                raise AlreadySaved(saved)
            check_quota(await used_bytes(party, connection), batch.total_bytes, quota_bytes)
            document = await ClearanceDocument.create(
                party=party,
                entered_by=person,
                kind=details.kind,
                number=details.number,
                issued_on=details.issued_on,
                declaration_number=details.declaration_number,
                note=details.note,
                idempotency_key=idempotency_key,
                using_db=connection,
            )
            for staged in batch.staged:
                await DocumentFile.create(
                    document=document, **DocumentFile.values_of(staged), using_db=connection
                )
    except AlreadySaved as already:
        return already.saved  # type: ignore[return-value]
    except IntegrityError:
        if saved := await _saved_with(party, idempotency_key):
            return saved
        raise
    return document


async def mark_mistaken(document: ClearanceDocument, person: Person, reason: str) -> bool:
    """Mark “Səhvən daxil edilib” once; returns False when it already was."""
    updated = await ClearanceDocument.filter(id=document.id, mistaken_at__isnull=True).update(
        mistaken_at=db_datetime(utcnow()), mistaken_by=person, mistaken_reason=reason
    )
    return bool(updated)


# --------------------------------------------------------------------------- officers

FIN_OR_VOEN_RE = re.compile(r"\A(?:[A-Z0-9]{7}|[0-9]{10})\Z")


def normalize_party_identifier(raw: str) -> str:
    return "".join(raw.split()).upper()


def officer_search_problems(identifier: str, declaration_number: str) -> list[Problem]:
    """An officer's search names a party (a FIN or a VÖEN) or a declaration number."""
    if identifier and not FIN_OR_VOEN_RE.match(identifier):
        return [Problem("party_invalid", "party")]
    if not identifier and not declaration_number:
        return [Problem("party_or_declaration_missing", "party")]
    return []


async def officer_search(
    identifier: str, declaration_number: str, period: Period | None, *, page: int = 1
) -> Page:
    """Any party's documents (marked-by-mistake ones included) by FIN/VÖEN, declaration
    number and period."""
    if identifier and not declaration_number:
        parties = await Party.filter(identifier=identifier).limit(2).values_list("id", flat=True)
        if len(parties) == 1:  # (a FIN and a VÖEN never look alike)
            return await party_page(
                parties[0], period, page, include_mistaken=True, with_party=True
            )
    query = ClearanceDocument.all()
    if identifier:
        query = query.filter(party__identifier=identifier)
    if declaration_number:
        query = query.filter(declaration_number=declaration_number)
    return await _page(_in_period(query, period), page, with_party=True)


async def document_for_officer(document_id: int) -> ClearanceDocument | None:
    return await _with_details(await ClearanceDocument.get_or_none(id=document_id))


async def audit(
    actor: Person,
    action: AuditAction,
    *,
    party_id: int | None = None,
    document: ClearanceDocument | None = None,
    file: DocumentFile | None = None,
    detail: str = "",
) -> AuditEntry:
    return await AuditEntry.create(
        actor=actor,
        action=action,
        party_id=party_id if party_id is not None else (document.party_id if document else None),
        document=document,
        file=file,
        detail=detail[:500],
    )


AUDIT_WINDOW = 50


@dataclass(frozen=True)
class AuditWindow:
    """Up to `AUDIT_WINDOW` entries of the audit log, newest first, and whether there are
    newer and older ones."""

    entries: list[AuditEntry]
    has_newer: bool
    has_older: bool


async def audit_window(
    before: int | None = None, after: int | None = None, size: int = AUDIT_WINDOW
) -> AuditWindow:
    """The newest entries, those just older than the entry `before` or just newer than the
    entry `after`: newest first by id (the order they were written in). The log only grows,
    so it is read through its primary key from a cursor — no COUNT, no OFFSET: every
    window costs the same however long the log is. `after` wins when both are given (only a
    hand-made link has both). A cursor that finds no window (a hand-edited link) shows the
    newest, and so do newer entries too few for a whole window: “Newer entries” then lands
    on the newest window, which holds them (and some already seen), never a short one."""
    rows: list[AuditEntry] = []
    if after is not None:
        rows = await AuditEntry.filter(id__gt=after).order_by("id").limit(size)
        rows = rows[::-1] if len(rows) == size else []
    elif before is not None:
        rows = await AuditEntry.filter(id__lt=before).order_by("-id").limit(size)
    newest = not rows
    if newest:
        rows = await AuditEntry.all().order_by("-id").limit(size)
    if not rows:
        return AuditWindow([], has_newer=False, has_older=False)
    await AuditEntry.fetch_for_list(rows, "actor", "party", "document", "file")
    return AuditWindow(
        list(rows),
        # Nothing is newer than the newest window (the page most often opened): not asked.
        has_newer=not newest and await AuditEntry.filter(id__gt=rows[0].id).exists(),
        has_older=await AuditEntry.filter(id__lt=rows[-1].id).exists(),
    )
