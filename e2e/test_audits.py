"""The tools people audit a public site with, run on the main pages in CI: Lighthouse mobile
(accessibility 100, performance ≥ 95, SEO ≥ 95) and the Nu Html Checker (no errors but the
`hx-*` attributes it does not know). `make test` installs both into ./node_modules
(package.json); a laptop without node or java skips with the reason, CI fails instead.

Budget: Lighthouse takes 15-25 s a page, so it audits four pages; Nu checks thirteen pages
in one Java run."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext

from e2e.conftest import ROOT, SYSTEM_CHROMIUM, new_context
from e2e.support import sign_in
from tests.support.database import in_ci

LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
BUDGETS = {"accessibility": 1.0, "performance": 0.95, "seo": 0.95}
COMPANY = "Xəzər Logistika MMC"


def need(tool: Path | str | None, what: str) -> None:
    """Skip on a laptop without the tool; in CI a missing tool is a failure."""
    if tool and (Path(tool).exists() if isinstance(tool, Path) else True):
        return
    message = f"{what} is not installed (make test installs it)"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)


def signed_in_cookie(browser: Browser, base_url: str) -> str:
    context = new_context(browser, base_url)
    page = context.new_page()
    sign_in(page, "vetendas", "/documents", party=COMPANY)
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())
    context.close()
    return cookies


@pytest.mark.parametrize(
    ("path", "signed_in"),
    [("/", False), ("/login/password", False), ("/documents", True), ("/letters", True)],
)
def test_lighthouse_mobile_budgets(
    browser: Browser, base_url: str, tmp_path: Path, path: str, signed_in: bool
):
    need(shutil.which("node"), "node")
    need(LIGHTHOUSE, "lighthouse")
    need(Path(SYSTEM_CHROMIUM) if Path(SYSTEM_CHROMIUM).exists() else None, "Debian chromium")
    report = tmp_path / "report.json"
    command = [
        str(LIGHTHOUSE),
        base_url + path,
        "--form-factor=mobile",
        "--only-categories=accessibility,performance,seo",
        "--chrome-flags=--headless=new --no-sandbox",
        "--output=json",
        f"--output-path={report}",
        "--quiet",
    ]
    if signed_in:
        command.append(
            "--extra-headers=" + json.dumps({"Cookie": signed_in_cookie(browser, base_url)})
        )
    env = {**os.environ, "CHROME_PATH": SYSTEM_CHROMIUM}
    # Lighthouse's own run (Chromium's start, its protocol) failed once in ~50 CI runs and
    # passed at once again: a second try, and its reason shown. A low score is not retried.
    for _attempt in range(2):
        finished = subprocess.run(command, timeout=90, env=env, capture_output=True, text=True)
        if finished.returncode == 0:
            break
    assert finished.returncode == 0, f"lighthouse failed twice:\n{finished.stderr[-3000:]}"
    result = json.loads(report.read_text())
    assert result["finalDisplayedUrl"].endswith(path), "signed out: audited the sign-in page"
    scores = {name: category["score"] for name, category in result["categories"].items()}
    failing = [
        f"{ref['id']}: {result['audits'][ref['id']].get('displayValue', '')}"
        for category in result["categories"].values()
        for ref in category["auditRefs"]
        if ref.get("weight") and (result["audits"][ref["id"]].get("score") or 1) < 1
    ]
    print(f"Lighthouse {path}: {scores}")
    for name, budget in BUDGETS.items():
        assert scores[name] >= budget, f"{path} {name} {scores[name]} < {budget}: {failing}"


def served_html(context: BrowserContext, path: str) -> str:
    response = context.request.get(path)
    assert response.ok, f"{path}: {response.status}"
    return response.text()


NU_PAGES_ANONYMOUS = ["/", "/services", "/agencies/dgk", "/login", "/login/password", "/login/asan"]
NU_PAGES_SIGNED_IN = ["/documents", "/documents/new", "/letters", "/letters/new", "/letters/mine"]
HX_ATTRIBUTE = re.compile(r"Attribute “hx-[a-z-]+” not allowed")


def test_nu_html_checker_finds_no_errors(browser: Browser, base_url: str, tmp_path: Path):
    need(shutil.which("java"), "java")
    need(VNU_JAR, "vnu-jar")
    context = new_context(browser, base_url)
    files = []
    for index, path in enumerate(NU_PAGES_ANONYMOUS):
        files.append(tmp_path / f"{index:02}.html")
        files[-1].write_text(served_html(context, path))
    page = context.new_page()
    sign_in(page, "vetendas", "/documents", party=COMPANY)
    for index, path in enumerate(NU_PAGES_SIGNED_IN, start=len(files)):
        files.append(tmp_path / f"{index:02}.html")
        files[-1].write_text(served_html(context, path))
    context.close()
    # The registry as a clerk: a list and a letter with its history (ids, <time datetime>).
    context = new_context(browser, base_url)
    page = context.new_page()
    sign_in(page, "katib", "/registry")
    page.goto("/registry")
    letter = page.locator("main a[href^='/registry/letters/']").first.get_attribute("href")
    staff_pages = ["/registry", letter]
    for index, path in enumerate(staff_pages, start=len(files)):
        files.append(tmp_path / f"{index:02}.html")
        files[-1].write_text(served_html(context, path))
    context.close()
    paths = NU_PAGES_ANONYMOUS + NU_PAGES_SIGNED_IN + staff_pages
    names = dict(zip((f.name for f in files), paths, strict=True))
    run = subprocess.run(
        ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=90,
    )
    messages = json.loads(run.stderr or run.stdout)["messages"]
    errors = [
        f"{names[Path(m['url']).name]}:{m.get('lastLine')}: {m['message']}"
        for m in messages
        if not HX_ATTRIBUTE.search(m["message"])
    ]
    hx_only = len(messages) - len(errors)
    print(f"Nu Html Checker: {len(files)} pages, {len(errors)} errors, {hx_only} hx-* notes")
    assert errors == []
