"""First-load weight of every page, as the bytes arrive from a real server: the response's
status line and headers (cookies included) plus its gzip-compressed body, for the HTML and
every stylesheet and script it links. Budget: 60 KB a page, htmx included.

`python -m web serve` (uvicorn, SQLite, demo data, and `seed-bench` giving the demo company
100 documents so its list is a full page) on a free port. Each response is read off a plain
socket (`Connection: close`), so nothing is left out or decoded before it is counted.
Signed-in pages are measured as the demo user who sees them, acting for a party with data
(the demo citizen for Xəzər Logistika MMC: documents, letters). Exits 1 over budget.

Run: `python -m bench.page_weight` (`BENCH_QUICK=1`: four pages, one of each kind).
`tests/integration/test_page_weight.py` holds the same budget in the test suite (`measure`,
through the in-process client).
"""

from __future__ import annotations

import logging
import re
import shutil
import socket
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from bench.harness import COMPANY_VOEN, QUICK, Server, prepare_data, web_env
from web.devdata.demo_data import DEMO_PASSWORD

BUDGET_BYTES = 60 * 1024
PAGES = [
    "/",
    "/services",
    "/agencies/dgk",
    "/agencies/dgk/services/clearance-documents",
    "/agencies/dgk/services/letter-tracking",
    "/documents",
    "/letters",
    "/login",
    "/login/asan",
    "/login/password",
    "/simulator/asan-imza/",
    "/no-such-page",
]
# Pages behind sign-in: (demo user, the party they act for — part of its label, "" for the
# first or none asked —, page).
COMPANY = "Xəzər Logistika MMC"
SIGNED_IN_PAGES = [
    ("vetendas", COMPANY, "/documents"),
    ("vetendas", COMPANY, "/documents/obligation"),
    ("vetendas", COMPANY, "/documents/new"),
    ("mufettis", "", f"/officer/documents?party={COMPANY_VOEN}"),
    ("admin", "", "/admin/audit"),
    ("vetendas", COMPANY, "/letters"),
    ("vetendas", COMPANY, "/letters/mine"),
    ("vetendas", COMPANY, "/letters/new"),
    ("vetendas", COMPANY, "/letters/notifications"),
    ("katib", "", "/registry"),
    ("katib", "", "/registry/new"),
    ("admin", "", "/registry/bodies"),
]
_ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def head_bytes(response: httpx.Response) -> int:
    """The status line and headers as HTTP/1.1 writes them (name: value CRLF, a blank line)."""
    status = len(f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n")
    return status + sum(len(name) + len(value) + 4 for name, value in response.headers.raw) + 2


async def measure(client, path: str) -> dict[str, int]:
    """Through a client (the tests' in-process one): the bytes of the page and of each linked
    asset, gzip-compressed, each with its status line and headers."""
    headers = {"accept-encoding": "gzip"}
    page = await client.get(path, headers=headers)
    sizes = {path: head_bytes(page) + page.num_bytes_downloaded}  # body before decoding
    for asset in sorted(set(_ASSET.findall(page.text))):
        response = await client.get(asset.replace("&amp;", "&"), headers=headers)
        sizes[asset] = head_bytes(response) + response.num_bytes_downloaded
    return sizes


def on_the_wire(base: str, path: str, cookie: str) -> tuple[int, int, int, str]:
    """GET `path` over a socket of its own as a browser would (gzip accepted, its cookies):
    the status, the bytes received (in all, of the head) and where a redirect points."""
    address = urlsplit(base)
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {address.netloc}\r\nAccept-Encoding: gzip\r\n"
        f"Accept: text/html,*/*\r\nConnection: close\r\n"
        + (f"Cookie: {cookie}\r\n" if cookie else "")
        + "\r\n"
    )
    received = bytearray()
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(request.encode())
        while chunk := connection.recv(65536):
            received += chunk
    head = bytes(received).split(b"\r\n\r\n", 1)[0]
    location = re.search(rb"(?im)^location:\s*(\S+)", head)
    target = location.group(1).decode() if location else ""
    return int(head.split(b" ", 2)[1]), len(received), len(head) + 4, target


def first_load(base: str, path: str, cookies: httpx.Cookies) -> tuple[int, int, int]:
    """Status of the page (after redirects, which count too), and the bytes of the page and
    its assets: in all, of the heads."""
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    text = httpx.get(f"{base}{path}", cookies=cookies, timeout=60, follow_redirects=True).text
    status, total, heads, location = on_the_wire(base, path, cookie)
    for _ in range(5):  # an anonymous visit to a signed-in page: the redirect, then the page
        if status not in (301, 302, 303, 307, 308):
            break
        hop = urlsplit(location)
        hop_path = hop.path + (f"?{hop.query}" if hop.query else "")
        status, size, head, location = on_the_wire(base, hop_path, cookie)
        total, heads = total + size, heads + head
    for asset in sorted(set(_ASSET.findall(text))):
        asset_status, size, head, _ = on_the_wire(base, asset.replace("&amp;", "&"), cookie)
        assert asset_status == 200, (asset, asset_status)
        total, heads = total + size, heads + head
    return status, total, heads


def signed_in(base: str, username: str, party: str) -> httpx.Cookies:
    """The cookies of a demo user signed in (and acting for the party named `party`)."""
    with httpx.Client(base_url=base, timeout=60) as client:
        client.get("/login")
        token = client.cookies.get("csrftoken")
        answer = client.post(
            "/login/password",
            data={"username": username, "password": DEMO_PASSWORD, "_csrf_token": token},
        )
        assert answer.status_code == 303, (username, answer.status_code)
        if answer.headers.get("location") == "/party":
            page = client.get("/party").text
            choices = re.findall(r'value="(\d+)"[^>]*>\s*<label[^>]*>\s*([^<]+)', page)
            party_id = next(value for value, label in choices if party in label)
            chosen = client.post("/party", data={"party": party_id, "_csrf_token": token})
            assert chosen.status_code == 303, chosen.status_code
        return client.cookies


def main() -> int:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # The smoke run: one page of each kind (plain, redirected to sign-in, a party's, staff's).
    pages = ["/", "/documents"] if QUICK else PAGES
    signed_in_pages = [SIGNED_IN_PAGES[0], SIGNED_IN_PAGES[3]] if QUICK else SIGNED_IN_PAGES
    data_dir = Path(tempfile.mkdtemp(prefix="egomruk-bench-weight-"))
    env = web_env(data_dir)
    results: list[tuple[str, int, int, int]] = []
    try:
        prepare_data(env, documents=100, small=0)
        with Server(env, "uvicorn", cpu=None) as server:
            for path in pages:
                results.append((path, *first_load(server.url, path, httpx.Cookies())))
            for username, party, path in signed_in_pages:
                cookies = signed_in(server.url, username, party)
                results.append((f"{path} ({username})", *first_load(server.url, path, cookies)))
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"{'page':52} {'status':>6} {'first load':>11} {'of it heads':>12} {'of budget':>10}")
    for path, status, total, heads in results:
        print(
            f"{path:52} {status:>6} {total / 1024:8.1f} KB {heads / 1024:9.1f} KB "
            f"{total / BUDGET_BYTES:9.0%}"
        )
    wrong = [path for path, status, *_ in results if status != 200 and "no-such" not in path]
    worst = max(total for _, _, total, _ in results)
    print(f"heaviest page: {worst / 1024:.1f} KB = {worst / BUDGET_BYTES:.0%} of the 60 KB budget")
    if wrong:
        print(f"not answered 200: {', '.join(wrong)}")
    return 0 if worst <= BUDGET_BYTES and not wrong else 1


if __name__ == "__main__":
    sys.exit(main())
