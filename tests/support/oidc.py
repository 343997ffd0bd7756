"""A real OpenID Provider process for the E-Gov identity tests, and a browser walk through it.

The provider is panva/oidc-provider (Node, OpenID-certified) run by
`tests/support/oidc_provider/provider.mjs`; `make test` installs it (`npm ci`). Its login page
takes any password for the accounts given here; consent is a "Continue" button or an abort link.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import free_port

PROVIDER_DIR = Path(__file__).resolve().parent / "oidc_provider"
CLIENT_ID = "e-gomruk"
CLIENT_SECRET = "e-gomruk-test-secret"

# The E-Gov identities the provider knows (login -> claims); FINs of the demo citizens.
ACCOUNTS = {
    "vetendas2": {"fin": "7XYZW34", "name": "Rəşad Əliyev"},
    "vetendas": {"fin": "5ABCD12", "name": "Aysel Məmmədova"},
}


@dataclass(frozen=True)
class RunningProvider:
    issuer: str
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


def provider_available() -> str | None:
    """Why the provider cannot run here (None when it can)."""
    if shutil.which("node") is None:
        return "node is not installed (make test installs it)"
    if not (PROVIDER_DIR / "node_modules" / "oidc-provider").is_dir():
        return (
            "oidc-provider is not installed: run make test (npm ci in tests/support/oidc_provider)"
        )
    return None


def require_provider() -> None:
    reason = provider_available()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


@contextmanager
def running_provider(
    *, redirect_uris: list[str], post_logout_redirect_uris: list[str], clock_offset_seconds: int = 0
) -> Iterator[RunningProvider]:
    require_provider()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "PORT": str(port),
        "ISSUER": issuer,
        "CLIENT_ID": CLIENT_ID,
        "CLIENT_SECRET": CLIENT_SECRET,
        "REDIRECT_URIS": ",".join(redirect_uris),
        "POST_LOGOUT_REDIRECT_URIS": ",".join(post_logout_redirect_uris),
        "ACCOUNTS": json.dumps(ACCOUNTS),
        "ID_TOKEN_TTL": "300",
        "CLOCK_OFFSET_SECONDS": str(clock_offset_seconds),
        "NODE_ENV": "test",
    }
    process = subprocess.Popen(
        ["node", str(PROVIDER_DIR / "provider.mjs")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    provider = RunningProvider(issuer=issuer, process=process)
    try:
        _wait_for_discovery(provider)
        yield provider
    finally:
        provider.stop()


def _wait_for_discovery(provider: RunningProvider) -> None:
    url = f"{provider.issuer}/.well-known/openid-configuration"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if provider.process.poll() is not None:
            output = (
                provider.process.stdout.read().decode(errors="replace")
                if provider.process.stdout
                else ""
            )
            raise RuntimeError(f"the OpenID provider exited early:\n{output[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the OpenID provider did not start")
