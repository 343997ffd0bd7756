"""Environment for the e2e server: a real OpenID provider for E-Gov identity, and the demo
certificates and reserved ports for Elektron imza (nginx itself: tests/support/nginx.py)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from tests.support.oidc import CLIENT_ID, CLIENT_SECRET, provider_available, running_provider

ROOT = Path(__file__).resolve().parents[2]


@contextmanager
def sign_in_means(
    env: dict[str, str], data_dir: Path, free_port: Callable[[], int]
) -> Iterator[dict[str, str]]:
    app = f"http://{env['HOST']}:{env['PORT']}"
    demo = data_dir / "e-imza-demo"
    subprocess.run(
        [sys.executable, "-m", "web", "e-imza-demo", "--out", str(demo)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    e_imza_port, portal_port = free_port(), free_port()
    extra = {
        "E_IMZA_CA_FILE": str(demo / "ca.pem"),
        "E_IMZA_CRL_FILES": str(demo / "crl.pem"),
        "E_IMZA_URL": f"https://127.0.0.1:{e_imza_port}/login/e-imza",
        "E_IMZA_PORT": str(e_imza_port),  # for the tests, not the app
        "E_IMZA_PORTAL_PORT": str(portal_port),
        "E_IMZA_DEMO_DIR": str(demo),
        "TRUSTED_PROXIES": "127.0.0.1",
    }
    with ExitStack() as stack:
        if provider_available() is None:
            provider = stack.enter_context(
                running_provider(
                    redirect_uris=[f"{app}/login/egov/callback"],
                    post_logout_redirect_uris=[f"{app}/"],
                )
            )
            extra.update(
                {
                    "EGOV_ISSUER_URL": provider.issuer,
                    "EGOV_CLIENT_ID": CLIENT_ID,
                    "EGOV_CLIENT_SECRET": CLIENT_SECRET,
                }
            )
        yield extra
