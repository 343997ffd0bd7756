"""The administrators' audit log reads in windows from a cursor (“Newer entries” / “Older
entries”), not pages of a count: the log only grows, and a window costs the same at any
length — no COUNT, no OFFSET, the primary key's index from the cursor."""

from __future__ import annotations

import asyncio
import re

import pytest

from models.documents import AuditAction, AuditEntry
from models.identity import Person
from tests.integration.test_round_trips import counted_sql
from tests.support.web import sign_in

pytestmark = pytest.mark.usefixtures("seeded")

MADE = 120  # two whole windows of 50 and a part of a third


def _probes(html: str, tag: str) -> list[int]:
    """The probe entries shown, in order (the table shows each twice: row and card)."""
    return list(dict.fromkeys(int(n) for n in re.findall(rf"audit-probe-{tag}-(\d+)", html)))


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'href="(/admin/audit\?[^"]+)" rel="{rel}"', html)
    return found.group(1).replace("&amp;", "&") if found else None


@pytest.fixture
async def probes(client):
    """MADE entries, newest last, removed afterwards; their tag."""
    tag = str(id(object()))[-6:]
    actor = await Person.get(accounts__username="mufettis")
    await AuditEntry.bulk_create(
        [
            AuditEntry(actor=actor, action=AuditAction.SEARCH, detail=f"audit-probe-{tag}-{n}")
            for n in range(MADE)
        ]
    )
    yield tag
    await AuditEntry.filter(detail__startswith=f"audit-probe-{tag}-").delete()


async def test_older_and_newer_entries_walk_the_whole_log_once(client, probes):
    await sign_in(client, "admin")
    newest = await client.get("/admin/audit")
    assert newest.status_code == 200
    assert _probes(newest.text, probes) == list(range(MADE - 1, MADE - 51, -1))
    assert _link(newest.text, "prev") is None  # nothing newer than the newest
    assert "Daha köhnə qeydlər" in newest.text and "vaxtından əvvəlkilər" in newest.text
    assert "Audit jurnalının qeydləri: " in newest.text  # the table's caption: which window

    second = await client.get(_link(newest.text, "next"))
    assert _probes(second.text, probes) == list(range(MADE - 51, MADE - 101, -1))
    third = await client.get(_link(second.text, "next"))
    assert _probes(third.text, probes) == list(range(MADE - 101, -1, -1))  # then older ones

    assert "Daha yeni qeydlər" in third.text and "vaxtından sonrakılar" in third.text
    back = await client.get(_link(third.text, "prev"))  # “Newer entries”
    assert _probes(back.text, probes) == _probes(second.text, probes)
    top = await client.get(_link(back.text, "prev"))
    assert _probes(top.text, probes) == _probes(newest.text, probes)
    assert _link(top.text, "prev") is None  # back at the newest: no “Newer entries”


@pytest.mark.parametrize(
    "query", ["before=abc", "after=-1", "before=0", "after=99999999999", "before=1e9", "page=7"]
)
async def test_a_cursor_that_finds_no_window_shows_the_newest(client, probes, query):
    await sign_in(client, "admin")
    shown = await client.get(f"/admin/audit?{query}")
    assert shown.status_code == 200
    assert _probes(shown.text, probes)[:50] == list(range(MADE - 1, MADE - 51, -1))


async def test_a_window_is_read_from_its_cursor_without_counting(client, probes, monkeypatch):
    await sign_in(client, "admin")
    newest = await client.get("/admin/audit")
    older = _link(newest.text, "next")
    async with counted_sql(monkeypatch) as statements:
        shown = await client.get(older)
        await asyncio.sleep(0)
    assert shown.status_code == 200
    audit = [sql for sql in statements if '"audit_entry"' in sql]
    assert not [sql for sql in audit if "COUNT(" in sql.upper() or "OFFSET" in sql.upper()]
    # The window, then whether anything is newer and older; the related rows are fetched
    # once for the window (officer, party, document, file), not per entry.
    assert len(statements) <= 8, statements
