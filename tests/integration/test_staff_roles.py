"""The role matrix: every staff route (under /registry, /officer, /admin) × every role.

A route added under those paths fails `test_every_staff_route_is_in_the_matrix` until it is
listed here with the roles that may use it. Executors may use a letter's routes only for
letters assigned to them; another letter is the same 404 as a missing one.
"""

from __future__ import annotations

import re
from datetime import date

import httpx
import pytest
from litestar.testing import AsyncTestClient

from models.documents import ClearanceDocument, DocumentFile, DocumentKind
from models.identity import Party, Person
from models.letters import CustomsBody, Executor, Letter, LetterAttachment, StructuralUnit
from tests.support.web import csrf_token, sign_in
from web.letters import service
from web.storage.batch import UploadBatch
from web.storage.local_disk import LocalDiskStorage

pytestmark = pytest.mark.usefixtures("seeded")

STAFF_PREFIXES = ("/registry", "/officer", "/admin")
ROLES = ("anonymous", "vetendas", "katib", "icraci", "mufettis", "admin")
CLERKS = {"katib", "admin"}
REGISTRY = {"katib", "icraci", "admin"}  # executors: their own letters only
OFFICERS = {"mufettis", "admin"}
ADMINS = {"admin"}
LETTER = "/registry/letters/{letter_id:int}"

MATRIX: dict[tuple[str, str], set[str]] = {
    ("GET", "/registry"): REGISTRY,
    ("GET", "/registry/new"): CLERKS,
    ("POST", "/registry/new"): CLERKS,
    ("GET", "/registry/search"): CLERKS,
    ("GET", LETTER): REGISTRY,
    ("GET", LETTER + "/files/{file_id:int}"): REGISTRY,
    ("POST", LETTER + "/forward"): REGISTRY,
    ("POST", LETTER + "/status"): REGISTRY,
    ("POST", LETTER + "/extend"): REGISTRY,
    ("GET", "/registry/bodies"): ADMINS,
    ("POST", "/registry/bodies"): ADMINS,
    ("GET", "/registry/bodies/{body_id:int}"): ADMINS,
    ("POST", "/registry/bodies/{body_id:int}"): ADMINS,
    ("POST", "/registry/bodies/{body_id:int}/units"): ADMINS,
    ("POST", "/registry/units/{unit_id:int}"): ADMINS,
    ("GET", "/officer/documents"): OFFICERS,
    ("GET", "/officer/documents/{document_id:int}"): OFFICERS,
    ("GET", "/officer/documents/{document_id:int}/files/{file_id:int}"): OFFICERS,
    ("GET", "/admin/audit"): ADMINS,
}
PDF = b"%PDF-1.4\n%role matrix\n"


def staff_routes(app) -> set[tuple[str, str]]:
    return {
        (method, route.path)
        for route in app.routes
        if route.path.startswith(STAFF_PREFIXES)
        for handler in route.route_handlers
        for method in handler.http_methods
        if method not in ("OPTIONS", "HEAD")
    }


def test_every_staff_route_is_in_the_matrix():
    from web.app import create_app

    assert staff_routes(create_app()) == set(MATRIX)


async def _chunks():
    yield PDF


async def _stored(settings, name: str):
    async with UploadBatch(LocalDiskStorage(settings.upload_dir)) as batch:
        staged = await batch.add(_chunks(), filename=name)
        await batch.commit_all()
    return staged


async def _letter_for(executor: Executor, settings) -> tuple[Letter, LetterAttachment]:
    body = await CustomsBody.get(id=executor.body_id)
    async with UploadBatch(LocalDiskStorage(settings.upload_dir)) as batch:
        await batch.add(_chunks(), filename="letter.pdf")
        letter = await service.register_letter(
            body=body,
            applicant=service.Applicant(person=None, fin=None, name="Rol Matrisi"),
            channel=service.LetterChannel.PAPER,
            subject=f"Role matrix for {executor.full_name}",
            text="Mətn",
            due_working_days=15,
            attachments=batch,
        )
    await Letter.filter(id=letter.id).update(executor_id=executor.id, unit_id=executor.unit_id)
    return letter, await LetterAttachment.get(letter_id=letter.id)


async def _document(settings) -> tuple[ClearanceDocument, DocumentFile]:
    party = await Party.first()
    person = await Person.get(accounts__username="vetendas")
    document = await ClearanceDocument.create(
        party=party,
        entered_by=person,
        kind=DocumentKind.INVOICE,
        number="ROL-1",
        issued_on=date(2026, 11, 3),
    )
    staged = await _stored(settings, "doc.pdf")
    file = await DocumentFile.create(
        document=document,
        storage_key=staged.key,
        original_name="doc.pdf",
        content_type="application/pdf",
        size=staged.size,
        sha256=staged.sha256,
    )
    return document, file


def _url(path: str, values: dict[str, int]) -> str:
    return re.sub(r"\{(\w+):int\}", lambda match: str(values[match.group(1)]), path)


async def _request(client: httpx.AsyncClient, method: str, url: str) -> httpx.Response:
    if method == "GET":
        return await client.get(url, follow_redirects=False)
    # An empty form: allowed roles get a 422 (nothing changes), the others a 404.
    return await client.post(
        url, data={"_csrf_token": await csrf_token(client)}, follow_redirects=False
    )


def _outcome(response: httpx.Response) -> str:
    if response.status_code in (302, 303) and "/login" in response.headers.get("location", ""):
        return "sign-in"
    if response.status_code == 404:
        return "404"
    assert response.status_code in (200, 422), (response.status_code, response.text[:300])
    return "allowed"


async def test_role_matrix(make_app, settings):
    app = make_app()
    async with AsyncTestClient(app=app):
        icraci = await Executor.get(person__accounts__username="icraci")
        someone_else = await Executor.filter(person_id=None, body_id=icraci.body_id).first()
        own, own_file = await _letter_for(icraci, settings)
        other, other_file = await _letter_for(someone_else, settings)
        document, document_file = await _document(settings)
        body = await CustomsBody.get(id=icraci.body_id)
        unit = await StructuralUnit.filter(body=body).first()
        fixed = {"body_id": body.id, "unit_id": unit.id, "document_id": document.id}
        variants = {
            "own letter": {**fixed, "letter_id": own.id, "file_id": own_file.id},
            "another's letter": {**fixed, "letter_id": other.id, "file_id": other_file.id},
        }

        transport = httpx.ASGITransport(app=app)
        clients: dict[str, httpx.AsyncClient] = {}
        for role in ROLES:
            clients[role] = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            if role != "anonymous":
                assert (await sign_in(clients[role], role)).status_code == 303

        failures = []
        for (method, path), allowed in MATRIX.items():
            for variant, values in variants.items():
                if "{letter_id" not in path and variant != "own letter":
                    continue
                values = {**values, "file_id": document_file.id} if "officer" in path else values
                may = allowed if variant == "own letter" else allowed - {"icraci"}
                for role in ROLES:
                    got = _outcome(await _request(clients[role], method, _url(path, values)))
                    want = "sign-in" if role == "anonymous" else "allowed" if role in may else "404"
                    if got != want:
                        failures.append(
                            f"{method} {path} ({variant}) as {role}: {got}, want {want}"
                        )

        # What the list and the search show follows the same rule.
        executor_list = (await clients["icraci"].get("/registry")).text
        clerk_list = (await clients["katib"].get("/registry")).text
        download = await clients["katib"].get(f"/registry/letters/{own.id}/files/{own_file.id}")
        assert download.content == PDF and "no-store" in download.headers["cache-control"]
        for client in clients.values():
            await client.aclose()
    assert not failures, "\n".join(failures)
    assert own.number in executor_list and other.number not in executor_list
    assert own.number in clerk_list and other.number in clerk_list
    assert "/registry/search" not in executor_list and "/registry/search" in clerk_list
