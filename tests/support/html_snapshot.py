"""Proof that a template refactoring changes no byte of HTML: the markup before and after.

    python -m tests.support.html_snapshot snapshot DIR   # on the old tree, then the new
    python -m tests.support.html_snapshot compare OLD_DIR NEW_DIR

`snapshot` renders (a) every example of every component's YAML (hidden ones too) in az, en
and ru, through `build_environment()`, and (b) real pages of the app, in process (SQLite in a
temporary DATA_DIR, demo data seeded): signed out and signed in as the demo users, GET pages,
htmx fragments and forms posted empty (errors), each in az, en and ru. Every body is written
to DIR/<name>.html. What differs from run to run is masked first: CSRF tokens, nonces,
idempotency keys, request ids, times of day and ISO timestamps.
`compare` lists the files that differ (with a short diff) and exits 1 when any does.
Used for the component rendering rework (issue 12).
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

import httpx

LANGUAGES = ("az", "en", "ru")
COMPANY = "Xəzər Logistika MMC"
COMPANY_VOEN = "1234567891"

# (user or None, method, path, query or form data, htmx?)
PAGES: list[tuple[str | None, str, str, dict[str, str] | None, bool]] = [
    (None, "GET", "/", None, False),
    (None, "GET", "/services", None, False),
    (None, "GET", "/agencies/dgk", None, False),
    (None, "GET", "/agencies/dgk/services/clearance-documents", None, False),
    (None, "GET", "/agencies/dgk/services/letter-tracking", None, False),
    (None, "GET", "/login", None, False),
    (None, "GET", "/login/password", None, False),
    (None, "POST", "/login/password", {}, False),
    (None, "POST", "/login/password", {"username": "vetendas", "password": "wrong"}, False),
    (None, "GET", "/login/asan", None, False),
    (None, "GET", "/login/totp", None, False),
    (None, "GET", "/letters", None, False),
    (None, "GET", "/no-such-page", None, False),
    ("vetendas", "GET", "/", None, False),
    ("vetendas", "GET", "/party", None, False),
    ("vetendas", "GET", "/letters", None, False),
    ("vetendas", "GET", "/letters/track", {"lookup": "found"}, False),
    ("vetendas", "GET", "/letters/track", {"lookup": "found"}, True),
    ("vetendas", "GET", "/letters/track", {"lookup": "not found"}, True),
    ("vetendas", "GET", "/letters/track", {"lookup": "not found"}, False),
    ("vetendas", "GET", "/letters/track", {}, True),
    ("vetendas", "GET", "/letters/track", {}, False),
    ("vetendas", "GET", "/letters/track", {"lookup": "bad date"}, True),
    ("vetendas", "GET", "/letters/mine", None, False),
    ("vetendas", "GET", "/letters/new", None, False),
    ("vetendas", "POST", "/letters/new", {}, False),
    ("vetendas", "GET", "/letters/notifications", None, False),
    ("vetendas", "GET", "/documents/obligation", None, False),
    ("vetendas", "POST", "/documents/obligation", {}, False),
    ("vetendas", "GET", "/documents", None, False),
    ("vetendas", "GET", "/documents", None, True),
    ("vetendas", "GET", "/documents", {"q": "2026"}, False),
    ("vetendas", "GET", "/documents", {"page": "2"}, False),
    ("vetendas", "GET", "/documents/new", None, False),
    ("vetendas", "POST", "/documents/new", {}, False),
    ("vetendas", "GET", "/documents/{first_document}", None, False),
    ("vetendas", "GET", "/letters/{first_letter}", None, False),
    ("katib", "GET", "/", None, False),
    ("katib", "GET", "/registry", None, False),
    ("katib", "GET", "/registry", {"q": "M-1024"}, False),
    ("katib", "GET", "/registry/new", None, False),
    ("katib", "POST", "/registry/new", {}, False),
    ("katib", "GET", "/registry/letters/{first_letter}", None, False),
    ("katib", "GET", "/registry/search", {"q": "M-1024"}, False),
    ("admin", "GET", "/registry/bodies", None, False),
    ("admin", "GET", "/registry/bodies/1", None, False),
    ("admin", "POST", "/registry/bodies", {}, False),
    ("admin", "GET", "/admin/audit", None, False),
    ("mufettis", "GET", "/officer/documents", None, False),
    ("mufettis", "GET", "/officer/documents/{first_document}", None, False),
]

# What changes from one run to the next, masked before writing.
_MASKS = [
    (re.compile(r'(name="_csrf_token" value=")[^"]*'), r"\1CSRF"),
    (re.compile(r'("x-csrftoken": ")[^"]*'), r"\1CSRF"),
    (re.compile(r'(nonce=")[^"]*'), r"\1NONCE"),
    (re.compile(r'(name="idempotency_key" value=")[^"]*'), r"\1KEY"),
    (re.compile(r"[0-9a-f]{32}"), "HEX32"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "UUID"),
    (re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:?\d{2}|Z)?"), "ISO"),
    (re.compile(r"\b\d{1,2}:\d{2}(:\d{2})?\b"), "HH:MM"),
]


def mask(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_")[:150]


def snapshot_examples(out_dir: Path) -> int:
    from tests.unit.test_components import all_examples, render
    from web.platform import i18n

    count = 0
    for language in LANGUAGES:
        token = i18n.set_language(language)
        try:
            for case in all_examples():
                name, example = case.values
                html = render(name, example.get("params") or {})
                path = out_dir / f"example.{language}.{_safe(name + '.' + example['name'])}.html"
                path.write_text(html, encoding="utf-8")
                count += 1
        finally:
            i18n.reset_language(token)
    return count


async def _pages(out_dir: Path) -> int:
    from bench.harness import app_in_process
    from models.documents import ClearanceDocument as Document
    from models.identity import Party, Person
    from models.letters import CustomsBody, Letter
    from tests.integration.letters_support import lookup_params
    from tests.support import web
    from web.devdata.bench_data import seed_documents
    from web.platform import i18n
    from web.platform.portal_time import today

    count = 0
    async with app_in_process() as (_app, first):
        body = await CustomsBody.get(name="Bakı Baş Gömrük İdarəsi")
        lookups = {
            "found": lookup_params(body.id, "M-1024/2026", "03.11.2026"),
            "not found": lookup_params(body.id, "M-9999/2026", "03.11.2026"),
            "bad date": lookup_params(body.id, "M-1024/2026", "31.02.2026"),
        }
        letter = await Letter.filter(number="M-1024/2026").first()
        # A documents list with data: 45 documents (three pages) for the demo company.
        party = await Party.get(identifier=COMPANY_VOEN)
        person = await Person.filter(full_name__not="").first()
        await seed_documents(party, person, 45, today(), spread_days=60)
        transport = first._transport

        for language in LANGUAGES:
            user: str | None = "-"
            client: httpx.AsyncClient | None = None
            for who, method, path, data, htmx in PAGES:
                if who != user:
                    if client is not None:
                        await client.aclose()
                    client = httpx.AsyncClient(transport=transport, base_url="http://bench")
                    client.cookies.set(i18n.LANGUAGE_COOKIE, language)
                    if who:
                        party = COMPANY if who == "vetendas" else None
                        await web.sign_in(client, who, expect=303, party=party)
                    user = who
                assert client is not None
                document = await Document.all().order_by("id").first()
                url = path.format(
                    first_letter=letter.id if letter else 0,
                    first_document=document.id if document else 0,
                )
                headers = {"hx-request": "true"} if htmx else {}
                if method == "GET":
                    query = dict(data or {})
                    if "lookup" in query:
                        query = lookups[query.pop("lookup")]
                    response = await client.get(url, params=query, headers=headers)
                else:
                    form = {**(data or {}), "_csrf_token": await web.csrf_token(client)}
                    # Multipart with an empty file field, as a browser sends the forms
                    # that have one (documents, letters); the others ignore it.
                    files = [("files", ("", b"", "application/octet-stream"))]
                    if url.startswith(("/login", "/documents/obligation", "/registry")):
                        files = None
                    response = await client.post(
                        url, data=form, files=files, headers=headers, follow_redirects=False
                    )
                key = f"{language} {who or '-'} {method} {url}"
                if data:
                    key += " " + urlencode(sorted(data.items()))
                if htmx:
                    key += " htmx"
                text = f"<!-- {response.status_code} -->\n" + mask(response.text)
                (out_dir / f"page.{_safe(key)}.html").write_text(text, encoding="utf-8")
                count += 1
            if client is not None:
                await client.aclose()
    return count


def snapshot(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    data_dir = Path(tempfile.mkdtemp(prefix="egomruk-html-"))
    os.environ.update(
        ENV="development",
        DATA_DIR=str(data_dir),
        LOG_LEVEL="WARNING",
        RATE_LIMIT_PER_MINUTE="100000000",
        LETTER_LOOKUP_RATE_LIMIT_PER_MINUTE="100000000",
        SIGN_IN_RATE_LIMIT_PER_MINUTE="100000",
    )
    for name in ("DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY", "SECRET_KEY", "STORAGE_URL"):
        os.environ.pop(name, None)
    try:
        examples = snapshot_examples(out_dir)
        pages = asyncio.run(_pages(out_dir))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"{examples} component examples, {pages} pages written to {out_dir}")


def compare(old_dir: Path, new_dir: Path, limit: int = 40) -> int:
    old = {p.name for p in old_dir.glob("*.html")}
    new = {p.name for p in new_dir.glob("*.html")}
    differing = []
    for name in sorted(old | new):
        a = (old_dir / name).read_bytes() if name in old else None
        b = (new_dir / name).read_bytes() if name in new else None
        if a != b:
            differing.append(name)
            if len(differing) <= 10:
                print(f"--- {name}")
                diff = difflib.unified_diff(
                    (a or b"").decode().splitlines(),
                    (b or b"").decode().splitlines(),
                    lineterm="",
                    n=1,
                )
                for line in list(diff)[:limit]:
                    print(line)
    same = len(old | new) - len(differing)
    print(f"{len(old | new)} files: {same} byte-identical, {len(differing)} differ")
    return 1 if differing else 0


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[0] == "snapshot":
        snapshot(Path(argv[1]))
        return 0
    if len(argv) == 3 and argv[0] == "compare":
        return compare(Path(argv[1]), Path(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
