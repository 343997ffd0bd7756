"""No input gives a 5xx: every form and every page with a query, fed by hypothesis.

The routes are enumerated from the app, so a new page is fuzzed without anyone remembering
to: a new POST route or a new kind of path parameter fails `test_every_route_is_fuzzed` until
its fields (FORMS) or parameter values (PATH_VALUES) are listed here. Each route is driven by
the user who may use it (an anonymous visitor, the demo citizen, a clerk, an officer, an
administrator), with text (NUL, bidi overrides, superscript digits, any Unicode), numbers,
CSRF tokens (right, wrong, non-ASCII, in the field or the header), URL-encoded or multipart.
Runs on SQLite and, with TEST_DATABASE=postgres (`make test`), on PostgreSQL.
"""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from tests.support.database import seeded_database_of_its_own
from web.app import create_app
from web.devdata.demo_data import DEMO_PASSWORD


@pytest.fixture(scope="module")
def own_settings(settings):
    with seeded_database_of_its_own(settings, "fuzz") as own:
        yield own


EXAMPLES_PER_ROUTE = 25
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

# Field names of every POST form, by route name. Upload forms (multipart) are in UPLOADS.
FORMS: dict[str, tuple[str, ...]] = {
    "login_password_submit": ("username", "password"),
    "login_totp_submit": ("code",),
    "login_asan_submit": ("phone", "user_id"),
    "party_choice_submit": ("party",),
    "logout": (),
    "session_keep_alive": (),
    "session_draft": ("body", "subject", "text", "number", "note"),
    "letters_new_submit": ("body", "subject", "text"),
    "registry_new_submit": ("fin", "name", "phone", "email", "channel", "body", "subject", "text"),
    "registry_staff_action": (  # forward, status and extend: one handler, three paths
        *("unit", "executor", "forward-public", "forward-internal"),
        *("status", "status-public", "status-internal"),
        *("days", "extend-public", "extend-internal"),
    ),
    "registry_bodies_add": ("name",),
    "registry_body_save": ("name", "active"),
    "registry_unit_add": ("unit_name",),
    "registry_unit_save": ("name", "active"),
    "documents_acknowledge": (),
    "documents_create": ("kind", "number", "declaration_number", "issued_on-day", "note"),
    "documents_mark_mistaken": ("reason",),
    "simulator_confirm": ("tx", "pin1"),
    "simulator_refuse": ("tx",),
}
UPLOADS = {"letters_new_submit", "documents_create"}
# Query names a page reads (any other GET route still gets arbitrary names and values).
QUERIES: dict[str, tuple[str, ...]] = {
    "login": ("next",),
    "letters_service": ("again",),
    "letters_track": ("body", "number", "registered-day", "registered-month", "registered-year"),
    "registry_list": ("body", "unit", "executor", "status", "overdue", "page"),
    "registry_search": ("fin",),
    "registry_letter": ("done",),
    "documents_service": ("from", "to", "mistaken", "page"),
    "officer_documents": ("party", "declaration", "from", "to", "page"),
    "admin_audit": ("before", "after"),
    "agency": ("q",),
    "set_language": ("next",),
    "simulator_home": ("phone",),
    "simulator_phone": ("done",),
    "simulator_pin": ("tx",),
    "documents_download": ("preview",),
    "officer_document_download": ("preview",),
}
NOT_FUZZED = {"static", "static/head", "healthz"}  # no input beyond the path; checked elsewhere
# Who uses a route, by path prefix (first match); anything else is fuzzed anonymously.
USERS = (
    ("/registry/bodies", "admin"),
    ("/registry/units", "admin"),
    ("/registry", "katib"),
    ("/officer", "mufettis"),
    ("/admin", "admin"),
    ("/documents", "vetendas"),
    ("/letters", "vetendas"),
    ("/party", "vetendas"),
    ("/session", "vetendas"),
)
PATH_PARAMS = {
    "agency_slug",
    "service_slug",
    "means",
    "code",
    "phone",
    "letter_id",
    "file_id",
    "body_id",
    "unit_id",
    "document_id",
    "form",
}

NASTY = [
    "\x00",
    "a\x00b",
    "²",
    "١٢٣",
    "１２",
    "\u202eM-1024",
    "5ABC\u202eD12",
    "ə" * 3000,
    "\r\n",
    "\ud7ff",
    "%00",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "-1",
    "99999999999999999999",
    "0",
    "1",
    "/\\evil.example",
    "//evil.example",
    "/ə?x=ü",
]
text_values = st.one_of(
    st.text(max_size=80),
    st.sampled_from(NASTY),
    st.integers().map(str),
    st.lists(st.sampled_from(NASTY), min_size=1, max_size=4).map("".join),
)


def _routes(app) -> list[tuple[str, str, str]]:
    """(method, path template, route name) of every GET and POST handler."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods & {"GET", "POST"}):
                found.append((method, route.path, handler.name))
    return found


def _user_for(path: str) -> str | None:
    return next((user for prefix, user in USERS if path.startswith(prefix)), None)


def _find(pattern: str, text: str, default: str = "1") -> str:
    match = re.search(pattern, text)
    return match.group(1) if match else default


class Browsers:
    """One app, one test client; a cookie jar per user, swapped in before each request."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.jars: dict[str | None, httpx.Cookies] = {None: httpx.Cookies()}

    def use(self, user: str | None) -> None:
        self.client.cookies = self.jars[user]

    def token(self) -> str:
        if not self.client.cookies.get("csrftoken"):
            self.client.get("/login")
        return self.client.cookies.get("csrftoken")

    def sign_in(self, user: str) -> None:
        self.client.cookies = httpx.Cookies()
        response = self.client.post(
            "/login/password",
            data={"username": user, "password": DEMO_PASSWORD, "_csrf_token": self.token()},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
        self.jars[user] = self.client.cookies


def _prepare(browsers: Browsers) -> dict[str, str]:
    """Sign everyone in and find real ids, so forms get past their 404s to their fields."""
    client = browsers.client
    for user in ("vetendas", "katib", "mufettis", "admin"):
        browsers.sign_in(user)
    browsers.use("vetendas")
    page = client.get("/party").text
    party = _find(r'value="(\d+)"', page)
    client.post("/party", data={"party": party, "_csrf_token": browsers.token()})
    client.post("/documents/obligation", data={"_csrf_token": browsers.token()})
    pdf = (FIXTURES / "invoice.pdf").read_bytes()
    client.post(
        "/documents/new",
        data={
            "_csrf_token": browsers.token(),
            "kind": "invoice",
            "number": "F-1",
            "issued_on-day": "1",
            "issued_on-month": "2",
            "issued_on-year": "2026",
        },
        files={"files": ("invoice.pdf", pdf, "application/pdf")},
    )
    document_page = client.get("/documents").text
    document_id = _find(r'href="/documents/(\d+)"', document_page)
    browsers.use("katib")
    letter_id = _find(r'/registry/letters/(\d+)"', client.get("/registry").text)
    browsers.use("admin")
    body_id = _find(r'/registry/bodies/(\d+)"', client.get("/registry/bodies").text)
    unit_id = _find(r'/registry/units/(\d+)"', client.get(f"/registry/bodies/{body_id}").text)
    return {
        "agency_slug": "dgk",
        "service_slug": "letter-tracking",
        "means": "e-imza",
        "code": "en",
        "phone": "+994501234567",
        "letter_id": letter_id,
        "file_id": "1",
        "body_id": body_id,
        "unit_id": unit_id,
        "document_id": document_id,
        "form": "appeal",
    }


def _path(template: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: values[m.group(1)], template)


def _fuzz_route(browsers: Browsers, method: str, path: str, name: str) -> int:
    """Run hypothesis on one route; returns how many requests were made."""
    client = browsers.client
    user = _user_for(path)
    names = FORMS.get(name, ()) if method == "POST" else QUERIES.get(name, ())
    made = 0
    fields = st.fixed_dictionaries(
        {field: text_values for field in names},
        optional={extra: text_values for extra in ("x", "page", "id") if extra not in names},
    )
    token_choice = st.sampled_from(["right", "wrong", "non-ascii", "header-non-ascii", "none"])
    encoding = st.sampled_from(["urlencoded", "multipart"])
    upload = st.one_of(
        st.none(),
        st.tuples(st.text(max_size=40), st.binary(max_size=2000)),
        st.tuples(st.sampled_from(["a.pdf", "ə\x00.png", "../../x.pdf"]), st.binary(max_size=64)),
    )

    @hypothesis_settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(values=fields, token=token_choice, how=encoding, file=upload)
    def run(values, token, how, file):
        nonlocal made
        browsers.use(user)
        made += 1
        if method == "GET":
            # A URL stays under the client's 64 KB limit (servers refuse longer ones anyway).
            params = {key: value[:1500] for key, value in values.items()}
            response = client.get(path, params=params, follow_redirects=False)
        else:
            headers: dict[str, bytes] = {}
            right = browsers.token()
            data = dict(values)
            if token == "right":
                data["_csrf_token"] = right
            elif token == "wrong":
                data["_csrf_token"] = right[::-1]
            elif token == "non-ascii":
                data["_csrf_token"] = right[:-5] + "tökən"
            elif token == "header-non-ascii":
                headers["x-csrftoken"] = (right[:-5] + "tökən").encode()
            files = None
            if name in UPLOADS or how == "multipart":
                files = {"files": (file[0] or "f", file[1])} if file else {"_": ("", b"")}
            response = client.post(
                path, data=data, files=files, headers=headers, follow_redirects=False
            )
        assert response.status_code < 500, f"{method} {path} -> {response.status_code}"

    run()
    return made


def test_every_route_is_fuzzed(settings):
    """A new form or path parameter must be described here, or this test says which."""
    app = create_app(settings)
    for method, path, name in _routes(app):
        if name in NOT_FUZZED:
            continue
        if method == "POST":
            assert name in FORMS, f"{name} ({path}): list its fields in FORMS"
        for param in re.findall(r"\{(\w+):", path):
            assert param in PATH_PARAMS, f"{name} ({path}): give {param} a value"


def test_no_input_gives_a_server_error(own_settings):
    app = create_app(
        replace(
            own_settings,
            letter_lookup_rate_limit_per_minute=1_000_000,
            rate_limit_per_minute=1_000_000,
            sign_in_rate_limit_per_minute=1_000_000,
        )
    )
    started = time.monotonic()
    made = 0
    with TestClient(app=app, raise_server_exceptions=False) as client:
        browsers = Browsers(client)
        values = _prepare(browsers)
        routes = [r for r in _routes(app) if r[2] not in NOT_FUZZED]
        # Sign-out last: it ends the session the other routes run in.
        routes.sort(key=lambda route: route[2] == "logout")
        for method, template, name in routes:
            made += _fuzz_route(browsers, method, _path(template, values), name)
    elapsed = time.monotonic() - started
    print(f"{made} fuzzed requests on {len(routes)} routes in {elapsed:.1f} s")
    assert made >= len(routes) * 5
