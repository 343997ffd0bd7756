"""Service “Rəsmiləşdirmə üçün tələb olunan sənədlərin surətləri”, through HTTP.

Most tests use a fresh trader (person, account and company of their own) so that counts
and pages do not depend on other tests; limits are made small with `make_app` so that
"at the bound" and "just over" stay cheap to send.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import AsyncTestClient

from models.documents import AuditEntry, ClearanceDocument, DocumentFile, DocumentKind
from models.identity import MembershipSource, Party, Person
from tests.support.web import act_for, csrf_token, sign_in
from web.documents import service
from web.identity import accounts
from web.platform.portal_time import db_datetime

pytestmark = pytest.mark.usefixtures("seeded")

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PDF = (FIXTURES / "invoice.pdf").read_bytes()
PNG = (FIXTURES / "stamp.png").read_bytes()
PASSWORD = "Sened-Saxla-2026"


def pdf_of(size: int) -> bytes:
    """A PDF-signed body of exactly `size` bytes."""
    return (PDF + b"%" * size)[:size] if size >= len(PDF) else PDF[:size]


async def new_trader(client: AsyncTestClient) -> str:
    """A person with an account acting for a company of their own; returns the company name."""
    fin = "".join(secrets.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(7))
    person = await Person.create(fin=fin, full_name=f"Test Tacir {fin}")
    username = f"tacir-{fin.lower()}"
    await accounts.create_account(person, username, PASSWORD)
    voen = str(secrets.randbelow(9 * 10**9) + 10**9)
    name = f"Sınaq MMC {voen}"
    company = await accounts.get_or_create_company_party(voen, name)
    await accounts.grant_party(person, company, MembershipSource.SEED)
    await accounts.grant_party(
        person, await accounts.get_or_create_personal_party(person), MembershipSource.SEED
    )
    await sign_in(client, username, PASSWORD)
    await act_for(client, name)
    return name


async def acknowledge(client: AsyncTestClient) -> None:
    response = await client.post(
        "/documents/obligation",
        data={"_csrf_token": await csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303


def details(**changes: str) -> dict[str, str]:
    """The form's fields; `issued_on="YYYY-MM-DD"` fills the three date fields."""
    year, month, day = changes.pop("issued_on", "2026-11-03").split("-")
    return {
        "kind": "invoice",
        "number": "INV-2026/17",
        "issued_on-day": day,
        "issued_on-month": month,
        "issued_on-year": year,
        "declaration_number": "10200010/031126/0001234",
        "note": "",
        **changes,
    }


def pdf_file(name: str = "invoice.pdf", body: bytes = PDF):
    return ("files", (name, body, "application/pdf"))


async def upload(client: AsyncTestClient, files=None, **changes: str):
    return await client.post(
        "/documents/new",
        data={"_csrf_token": await csrf_token(client), **details(**changes)},
        files=[pdf_file()] if files is None else files,
        follow_redirects=False,
    )


def count_on(page_text: str) -> int:
    return int(re.search(r"Sayı: <strong>(\d+)</strong>", page_text).group(1))


def document_ids(page_text: str) -> list[int]:
    """In list order, once each (a row is both a table row and, for phones, a card)."""
    return list(dict.fromkeys(int(i) for i in re.findall(r'href="/documents/(\d+)"', page_text)))


async def stored_files(settings) -> set[str]:
    root = settings.upload_dir
    return {p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()


# --------------------------------------------------------------------------- the flow


async def test_demo_trader_acknowledges_adds_and_sees_the_count_follow(client):
    await sign_in(client, "vetendas")
    await act_for(client, "Xəzər Logistika MMC")
    page = await client.get("/documents")
    assert page.status_code == 200
    assert "<h1>Rəsmiləşdirilmə üçün tələb olunan sənədlərin surətləri</h1>" in page.text
    assert "Son 30 gün" in page.text
    before = count_on(page.text)
    await acknowledge(client)
    response = await upload(client, files=[pdf_file(), ("files", ("stamp.png", PNG, "image/png"))])
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/documents"
    page = await client.get("/documents")
    assert "Sənəd yadda saxlanıldı" in page.text
    reference = re.search(r"RS-\d{7}", page.text).group()
    assert count_on(page.text) == before + 1
    assert "INV-2026/17" in page.text
    # The confirmation is shown once.
    assert reference not in (await client.get("/documents")).text


async def test_new_document_needs_the_acknowledgment_and_says_where(client):
    await new_trader(client)
    form = await client.get("/documents/new")
    assert "Tanış oldum" in form.text and 'href="/documents/obligation"' in form.text
    assert 'name="number"' not in form.text
    refused = await upload(client)
    assert refused.status_code == 303 and refused.headers["location"] == "/documents/new"
    assert (
        await ClearanceDocument.filter(
            number="INV-2026/17", party__name__startswith="Sınaq"
        ).count()
        == 0
    )

    obligation = await client.get("/documents/obligation")
    assert "Öhdəlik forması" in obligation.text and "5 il" in obligation.text
    await acknowledge(client)
    await acknowledge(client)  # a second press keeps the first record
    shown = await client.get("/documents/obligation")
    assert "Tanış olunub" in shown.text
    assert 'name="number"' in (await client.get("/documents/new")).text
    assert (await upload(client)).status_code == 303


async def test_search_by_period_validates_and_keeps_what_was_typed(client):
    await new_trader(client)
    bad = await client.get("/documents?from=2026-02-31&to=2026-01-01")  # an older link's form
    assert bad.status_code == 422
    assert 'href="#from-day"' in bad.text
    typed = {"from-day": "10", "from-month": "11", "from-year": "2026"}
    reversed_ = await client.get(
        "/documents", params={**typed, "to-day": "1", "to-month": "11", "to-year": "2026"}
    )
    assert reversed_.status_code == 422 and 'href="#to-day"' in reversed_.text
    assert 'value="10"' in reversed_.text and 'value="1"' in reversed_.text
    missing = await client.get("/documents", params=typed)
    assert missing.status_code == 422 and "Dövrün son gününü daxil edin" in missing.text
    end = {"to-day": "20", "to-month": "11", "to-year": "2026"}
    no_year = await client.get("/documents", params={**typed, **end, "from-year": ""})
    assert "Tarixdə il olmalıdır" in no_year.text and 'href="#from-year"' in no_year.text
    assert no_year.text.count('aria-invalid="true"') == 1  # the year only
    # htmx gets the fragment only: form, count and list, swapped together, after the title.
    fragment = await client.get(
        "/documents?from=2026-11-01&to=2026-11-30", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    title, _, rest = fragment.text.lstrip().partition("\n")
    assert re.fullmatch(r"<title>[^<]+ – e-Gömrük</title>", title)
    assert rest.lstrip().startswith('<div id="documents-search"')
    assert "<html" not in fragment.text and "data-announce" in fragment.text
    assert fragment.headers["HX-Push-Url"] == (
        "/documents?from-day=01&from-month=11&from-year=2026&to-day=30&to-month=11&to-year=2026"
    )


async def test_period_is_calendar_days_in_baku_both_ends_inclusive(client):
    await new_trader(client)
    await acknowledge(client)
    assert (await upload(client)).status_code == 303
    document = (
        await ClearanceDocument.filter(party__name__startswith="Sınaq").order_by("-id").first()
    )
    # 23:59:59 Baku on 14 Nov is 19:59:59 UTC; 00:00 Baku on 15 Nov is 20:00 UTC on the 14th.
    for utc_time, day_in_baku in (
        (datetime(2026, 11, 14, 19, 59, 59, tzinfo=UTC), "2026-11-14"),
        (datetime(2026, 11, 14, 20, 0, 0, tzinfo=UTC), "2026-11-15"),
    ):
        await ClearanceDocument.filter(id=document.id).update(created_at=db_datetime(utc_time))
        for start, end, found in (
            (day_in_baku, day_in_baku, True),
            ("2026-11-01", day_in_baku, True),
            (day_in_baku, "2026-11-30", True),
        ):
            page = await client.get(f"/documents?from={start}&to={end}")
            assert (document.id in document_ids(page.text)) is found, (utc_time, start, end)
        other_day = "2026-11-15" if day_in_baku == "2026-11-14" else "2026-11-14"
        page = await client.get(f"/documents?from={other_day}&to={other_day}")
        assert document.id not in document_ids(page.text)
        assert count_on(page.text) == 0


async def test_list_is_newest_first_twenty_a_page(client):
    await new_trader(client)
    await acknowledge(client)
    for n in range(21):
        assert (await upload(client, number=f"N-{n:02d}")).status_code == 303
    first = await client.get("/documents")
    assert count_on(first.text) == 21
    assert len(document_ids(first.text)) == 20
    assert "N-20" in first.text and "N-00" not in first.text
    assert 'href="/documents?page=2"' in first.text
    second = await client.get("/documents?page=2")
    assert document_ids(second.text) == [min(document_ids(first.text)) - 1]
    assert "N-00" in second.text and count_on(second.text) == 21
    beyond = await client.get("/documents?page=99")  # clamps to the last page
    assert "N-00" in beyond.text


async def test_empty_list_points_to_new_document(client):
    await new_trader(client)
    page = await client.get("/documents")
    assert count_on(page.text) == 0
    assert "Bu dövrdə sənəd daxil edilməyib." in page.text
    assert 'href="/documents/new"' in page.text


# --------------------------------------------------------------------------- the form


async def test_invalid_form_saves_nothing_and_keeps_the_typed_values(client, settings):
    await new_trader(client)
    await acknowledge(client)
    before_rows = await DocumentFile.all().count()
    before_files = await stored_files(settings)
    response = await upload(
        client,
        kind="",
        number="KEEP-ME-77",
        issued_on="2099-01-01",
        note="ə" * 501,
        declaration_number="not a number",
    )
    assert response.status_code == 422
    for field_id in ("kind", "issued_on-day", "declaration_number", "note"):
        assert f'href="#{field_id}"' in response.text
    assert 'value="KEEP-ME-77"' in response.text
    assert "Faylları yenidən seçin" in response.text
    assert await DocumentFile.all().count() == before_rows
    assert await stored_files(settings) == before_files


async def test_a_file_is_required(client):
    await new_trader(client)
    await acknowledge(client)
    response = await upload(client, files=[("files", ("", b"", "application/octet-stream"))])
    assert response.status_code == 422
    assert 'href="#files"' in response.text and "Ən azı bir fayl seçin" in response.text


@pytest.mark.parametrize(
    ("name", "body", "message"),
    [
        (
            "page.pdf",
            b"<!doctype html><script>alert(1)</script>",
            "PDF, JPEG və ya PNG faylı olmalıdır",
        ),
        ("setup.pdf", b"MZ\x90\x00" + b"\x00" * 200, "PDF, JPEG və ya PNG faylı olmalıdır"),
        ("photo.pdf", PNG, "adında göstərilən növdə deyil"),
        ("script.exe", PDF, "PDF, JPEG və ya PNG faylı olmalıdır"),
        ("empty.pdf", b"", "boşdur"),
    ],
)
async def test_content_decides_the_type(client, settings, name, body, message):
    await new_trader(client)
    await acknowledge(client)
    before = await stored_files(settings)
    response = await upload(client, files=[pdf_file(name, body)])
    assert response.status_code == 422
    assert message in response.text
    assert await stored_files(settings) == before


@pytest.mark.parametrize(
    ("files", "accepted"),
    [
        ([1000], True),  # a file at the limit
        ([1001], False),  # one byte over
        ([1000, 1000, 500], True),  # the document at its limit (2500)
        ([1000, 1000, 501], False),  # one byte over the document's limit
        ([100, 100, 100], True),  # the most files
        ([100, 100, 100, 100], False),  # one file too many
    ],
)
async def test_limits_at_and_just_over_each_bound(make_app, settings, files, accepted):
    app = make_app(upload_max_file_bytes=1000, upload_max_files=3, upload_max_document_bytes=2500)
    async with AsyncTestClient(app=app) as client:
        await new_trader(client)
        await acknowledge(client)
        before = await stored_files(settings)
        response = await upload(
            client, files=[pdf_file(f"part-{i}.pdf", pdf_of(size)) for i, size in enumerate(files)]
        )
        if accepted:
            assert response.status_code == 303, response.text
            assert len(await stored_files(settings) - before) == len(files)
        else:
            assert response.status_code == 422
            assert 'href="#files"' in response.text
            assert await stored_files(settings) == before


async def test_body_far_over_the_limit_is_refused_without_reading_it(make_app):
    app = make_app(upload_max_file_bytes=1000, upload_max_files=3, upload_max_document_bytes=2500)
    async with AsyncTestClient(app=app) as client:
        await new_trader(client)
        await acknowledge(client)
        response = await upload(client, files=[pdf_file("huge.pdf", pdf_of(2_000_000))])
        assert response.status_code == 413


async def test_quota_reached_has_a_clear_message(make_app, settings):
    async with AsyncTestClient(app=make_app(party_quota_bytes=len(PDF) * 2)) as client:
        await new_trader(client)
        await acknowledge(client)
        assert (await upload(client)).status_code == 303
        assert (await upload(client)).status_code == 303  # exactly at the quota
        before = await stored_files(settings)
        refused = await upload(client)
        assert refused.status_code == 422
        assert "Yaddaşınız doludur" in refused.text
        assert await stored_files(settings) == before


async def test_upload_needs_csrf(client):
    await new_trader(client)
    await acknowledge(client)
    response = await client.post(
        "/documents/new", data=details(), files=[pdf_file()], follow_redirects=False
    )
    assert response.status_code == 403
    for token in ("x" * 80, "ə" * 80):
        forged = await client.post(
            "/documents/new",
            data={"_csrf_token": token, **details()},
            files=[pdf_file()],
            follow_redirects=False,
        )
        assert forged.status_code == 403


async def test_markup_and_hostile_filenames_stay_text(client):
    await new_trader(client)
    await acknowledge(client)
    long_name = "ə" * 300 + ".pdf"
    response = await upload(
        client,
        number="<script>alert('n')</script>",
        note="<b>bold</b> & <i>",
        files=[
            pdf_file("../../etc/<img src=x onerror=alert(1)>.pdf"),
            pdf_file("..\\..\\windows\\win.ini.pdf"),
            pdf_file(long_name),
        ],
    )
    assert response.status_code == 303, response.text
    document = (
        await ClearanceDocument.filter(party__name__startswith="Sınaq").order_by("-id").first()
    )
    names = [f.original_name for f in await DocumentFile.filter(document=document).order_by("id")]
    assert names[0] == "<img src=x onerror=alert(1)>.pdf"
    assert names[1] == "win.ini.pdf"
    assert names[2].endswith(".pdf") and len(names[2].encode()) <= 255
    page = await client.get(f"/documents/{document.id}")
    assert "<script>alert" not in page.text and "&lt;script&gt;alert" in page.text
    assert "<b>bold</b>" not in page.text and "&lt;b&gt;bold&lt;/b&gt; &amp; &lt;i&gt;" in page.text
    assert "<img src=x" not in page.text and "&lt;img src=x onerror=alert(1)&gt;.pdf" in page.text
    listing = await client.get("/documents")
    assert "<script>alert" not in listing.text
    first_file = (await DocumentFile.filter(document=document).order_by("id").first()).id
    download = await client.get(f"/documents/{document.id}/files/{first_file}")
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert "filename*=UTF-8''%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.pdf" in disposition
    assert (
        "<" not in disposition and '"' not in disposition.split('filename="')[1][:-1].split('";')[0]
    )


# --------------------------------------------------------------------------- details


async def test_download_is_an_attachment_with_the_stored_type(client):
    await new_trader(client)
    await acknowledge(client)
    await upload(
        client,
        files=[pdf_file("Hesab-faktura №17.pdf"), ("files", ("möhür.png", PNG, "image/png"))],
    )
    document = (
        await ClearanceDocument.filter(party__name__startswith="Sınaq").order_by("-id").first()
    )
    page = await client.get(f"/documents/{document.id}")
    assert "Hesab-faktura №17.pdf" in page.text and "möhür.png" in page.text
    assert "&lt;span" not in page.text  # no markup shown as text
    assert "Yüklə" in page.text
    files = await DocumentFile.filter(document=document).order_by("id")
    pdf = await client.get(f"/documents/{document.id}/files/{files[0].id}")
    assert pdf.status_code == 200 and pdf.content == PDF
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-security-policy"] == "sandbox"
    assert pdf.headers["x-content-type-options"] == "nosniff"
    assert "filename*=UTF-8''Hesab-faktura%20%E2%84%9617.pdf" in pdf.headers["content-disposition"]
    png = await client.get(f"/documents/{document.id}/files/{files[1].id}")
    assert png.content == PNG and png.headers["content-type"] == "image/png"
    # Images preview inline on the details page (still sandboxed); PDFs never do.
    assert f'src="/documents/{document.id}/files/{files[1].id}?preview=1"' in page.text
    preview = await client.get(f"/documents/{document.id}/files/{files[1].id}?preview=1")
    assert preview.headers["content-disposition"].startswith("inline;")
    assert preview.headers["content-security-policy"] == "sandbox"
    pdf_preview = await client.get(f"/documents/{document.id}/files/{files[0].id}?preview=1")
    assert pdf_preview.headers["content-disposition"].startswith("attachment;")
    assert files[0].sha256 == hashlib.sha256(PDF).hexdigest()
    listing = await client.get("/documents")
    row = re.search(rf'href="/documents/{document.id}".*?</tr>', listing.text, re.S).group()
    assert re.search(r">\s*2\s*</td>", row)  # the number of files


async def test_another_partys_ids_look_exactly_like_missing_ones(client):
    await new_trader(client)
    await acknowledge(client)
    await upload(client)
    document = (
        await ClearanceDocument.filter(party__name__startswith="Sınaq").order_by("-id").first()
    )
    file = await DocumentFile.filter(document=document).first()

    def without_request_id(response) -> str:
        """The page minus what must differ: the request id and the URL (language links)."""
        text = response.text.replace(response.headers["x-request-id"], "")
        return text.replace(response.request.url.path, "URL")

    await sign_in(client, "vetendas2")  # the second demo citizen, on the same browser
    missing = await client.get("/documents/999999999")
    assert missing.status_code == 404
    for url in (
        f"/documents/{document.id}",
        f"/documents/{document.id}/files/{file.id}",
        f"/documents/999999999/files/{file.id}",
    ):
        response = await client.get(url)
        assert response.status_code == 404
        assert without_request_id(response) == without_request_id(missing)
    marked = await client.post(
        f"/documents/{document.id}/mistaken",
        data={"reason": "not mine", "_csrf_token": await csrf_token(client)},
    )
    assert marked.status_code == 404
    assert document.id not in document_ids((await client.get("/documents")).text)
    assert (await ClearanceDocument.get(id=document.id)).mistaken_at is None


async def test_entered_by_mistake_leaves_the_list_but_stays(client):
    await new_trader(client)
    await acknowledge(client)
    await upload(client, number="WRONG-1")
    document = (
        await ClearanceDocument.filter(party__name__startswith="Sınaq").order_by("-id").first()
    )
    empty = await client.post(
        f"/documents/{document.id}/mistaken",
        data={"reason": "", "_csrf_token": await csrf_token(client)},
    )
    assert empty.status_code == 422 and 'href="#reason"' in empty.text
    marked = await client.post(
        f"/documents/{document.id}/mistaken",
        data={"reason": "Başqa yükə aiddir", "_csrf_token": await csrf_token(client)},
        follow_redirects=False,
    )
    assert marked.status_code == 303
    assert "WRONG-1" not in (await client.get("/documents")).text
    shown = await client.get("/documents?mistaken=1")
    assert "WRONG-1" in shown.text and "Səhvən daxil edilib" in shown.text
    detail = await client.get(f"/documents/{document.id}")
    assert "Başqa yükə aiddir" in detail.text
    assert await DocumentFile.filter(document=document).count() == 1


# --------------------------------------------------------------------------- officers


async def test_officer_finds_opens_and_downloads_and_every_access_is_audited(client):
    company = await new_trader(client)
    await acknowledge(client)
    await upload(client, declaration_number="10200010/151126/0009999")
    document = await ClearanceDocument.filter(party__name=company).first().prefetch_related("party")
    file = await DocumentFile.filter(document=document).first()

    await sign_in(client, "mufettis")
    found = await client.get(f"/officer/documents?party={document.party.identifier}")
    assert found.status_code == 200
    assert f'href="/officer/documents/{document.id}"' in found.text
    by_declaration = await client.get("/officer/documents?declaration=10200010/151126/0009999")
    assert f'href="/officer/documents/{document.id}"' in by_declaration.text
    bad = await client.get("/officer/documents?party=123")
    assert bad.status_code == 422 and 'href="#party"' in bad.text
    opened = await client.get(f"/officer/documents/{document.id}")
    assert opened.status_code == 200 and company in opened.text
    download = await client.get(f"/officer/documents/{document.id}/files/{file.id}")
    assert download.content == PDF
    officer = await Person.get(accounts__username="mufettis")
    entries = await AuditEntry.filter(actor=officer).order_by("-id").limit(3)
    assert [e.action for e in entries] == ["download", "view", "search"]
    assert entries[0].file_id == file.id and entries[1].document_id == document.id
    # Staff never act as a party: the trader's pages are not theirs.
    assert (await client.get(f"/documents/{document.id}")).status_code == 404

    await sign_in(client, "admin")
    log = await client.get("/admin/audit")
    assert log.status_code == 200
    assert document.reference in log.text and "Faylı yüklədi" in log.text


async def test_officer_and_audit_pages_are_404_for_others(client):
    await sign_in(client, "vetendas2")
    assert (await client.get("/officer/documents")).status_code == 404
    assert (await client.get("/admin/audit")).status_code == 404


# --------------------------------------------------------------------------- storage check


async def test_storage_check_reports_orphans_and_missing_files(client, settings, tmp_path):
    import os
    import time

    from web.storage.check import check
    from web.storage.local_disk import LocalDiskStorage
    from web.storage.protocol import new_key

    await new_trader(client)
    await acknowledge(client)
    await upload(client)
    backend = LocalDiskStorage(settings.upload_dir)
    document = (
        await ClearanceDocument.filter(party__name__startswith="Sınaq").order_by("-id").first()
    )
    kept = await DocumentFile.filter(document=document).first()
    # An orphan (old enough to count) and a row whose file went missing.
    orphan = new_key()
    path = backend.path_for(orphan)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(PDF)
    old = time.time() - 7200
    os.utime(path, (old, old))
    lost = await DocumentFile.create(
        document=document,
        storage_key=new_key(),
        original_name="lost.pdf",
        content_type="application/pdf",
        size=1,
        sha256="0" * 64,
    )
    result = await check(backend)
    assert orphan in result.report.orphans and lost.storage_key in result.report.missing
    assert kept.storage_key not in result.report.orphans
    assert path.exists()
    result = await check(backend, remove=True)
    assert orphan in result.removed and not path.exists()
    assert backend.path_for(kept.storage_key).exists()
    await lost.delete()


async def test_an_interrupted_upload_leaves_neither_file_nor_row(client, settings):
    await new_trader(client)
    await acknowledge(client)
    rows = await DocumentFile.all().count()
    before = await stored_files(settings)
    boundary = "cut-here-2026"
    fields = {"_csrf_token": await csrf_token(client), **details()}
    head = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    )
    body = (
        head + f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="a.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n"
    ).encode() + PDF  # the connection ends here: no closing boundary
    response = await client.post(
        "/documents/new",
        content=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    assert response.status_code == 400
    assert await DocumentFile.all().count() == rows
    assert await stored_files(settings) == before


async def test_every_table_holding_storage_keys_is_checked():
    """A table missing from KEY_COLUMNS would have its files removed as orphans."""
    import importlib

    from tortoise.models import Model

    from models import MODEL_MODULES
    from web.storage.check import KEY_COLUMNS

    with_keys = {
        value
        for module in map(importlib.import_module, MODEL_MODULES)
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, Model)
        and value.__module__ == module.__name__
        and "storage_key" in value._meta.fields_map
    }
    assert with_keys == {model for model, _column in KEY_COLUMNS}


async def test_two_uploads_at_once_cannot_both_pass_the_quota(client, settings):
    import asyncio
    from datetime import date

    from web.storage.batch import UploadBatch
    from web.storage.local_disk import LocalDiskStorage
    from web.storage.quota import QuotaExceeded

    company = await new_trader(client)
    party = await Party.get(name=company)
    person = await Person.filter(memberships__party=party).first()
    details = service.DocumentDetails(
        kind=DocumentKind.INVOICE,
        number="Q-1",
        issued_on=date(2026, 11, 3),
        declaration_number=None,
        note=None,
    )
    storage = LocalDiskStorage(settings.upload_dir)

    async def one_chunk():
        yield PDF

    async def save() -> str:
        async with UploadBatch(storage) as batch:
            await batch.add(one_chunk(), filename="q.pdf")
            try:
                await service.create_document(party, person, details, batch, len(PDF) * 3 // 2)
            except QuotaExceeded:
                return "refused"
            return "saved"

    assert sorted(await asyncio.gather(save(), save())) == ["refused", "saved"]
    assert await DocumentFile.filter(document__party=party).count() == 1


async def test_a_kept_draft_fills_the_new_document_form_once(client):
    """The idle warning keeps a document's text (web/identity/drafts.py); files never."""
    await new_trader(client)
    await acknowledge(client)
    draft = {
        "kind": "invoice",
        "number": "INV-DRAFT-1",
        "issued_on-day": "03",
        "issued_on-month": "11",
        "issued_on-year": "2026",
        "note": "Qeyd",
        "files": "not kept",
    }
    token = await csrf_token(client)
    saved = await client.post(
        "/session/drafts/document", data=draft, headers={"x-csrftoken": token}
    )
    assert saved.status_code == 204
    form = await client.get("/documents/new")
    assert 'value="INV-DRAFT-1"' in form.text and 'value="2026"' in form.text
    assert 'id="draft-notice"' in form.text
    assert 'value="INV-DRAFT-1"' not in (await client.get("/documents/new")).text
