"""The repository's nginx config (deploy/nginx/e-gomruk.conf) run for real on free ports.

Rendered with throw-away TLS certificates into a temporary prefix; `make test` installs Debian's
nginx (like chromium). Skips on a laptop without nginx, fails in CI.
"""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "nginx" / "e-gomruk.conf"


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None
    )


def require_nginx() -> str:
    binary = nginx_binary()
    if binary is None:
        reason = "nginx is not installed (make test installs it with apt-get)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return binary


def _server_certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return write_pem_pair(key, cert, directory, "server")


def write_pem_pair(key, cert: x509.Certificate, directory: Path, name: str) -> tuple[Path, Path]:
    """`<name>.pem` (certificate) and `<name>.key` (unencrypted PKCS#8) for nginx or a browser."""
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@dataclass(frozen=True)
class RunningFront:
    portal_url: str  # https://127.0.0.1:<port>
    e_imza_url: str  # https://127.0.0.1:<port>/login/e-imza
    error_log: Path


def _wait_for_port(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"nginx exited:\n{log.read_text() if log.exists() else ''}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError("nginx did not start")


@contextmanager
def running_front(
    *,
    app_port: int,
    portal_port: int,
    e_imza_port: int,
    portal_origin: str,
    client_ca: Path,
    directory: Path,
) -> Iterator[RunningFront]:
    binary = require_nginx()
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = _server_certificate(directory)
    servers = CONFIG.read_text()
    for placeholder, value in {
        "@APP_ADDRESS@": f"127.0.0.1:{app_port}",
        "@SERVER_NAME@": "127.0.0.1",
        "@PORTAL_PORT@": str(portal_port),
        "@E_IMZA_PORT@": str(e_imza_port),
        "@PORTAL_ORIGIN@": portal_origin,
        "@SERVER_CERT@": str(cert),
        "@SERVER_KEY@": str(key),
        "@CLIENT_CA@": str(client_ca),
    }.items():
        servers = servers.replace(placeholder, value)
    left = re.findall(r"@[A-Z_]+@", servers)
    assert not left, f"placeholders left in the nginx config: {left}"
    (directory / "e-gomruk.conf").write_text(servers)
    error_log = directory / "error.log"
    temp = {name: directory / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    for path in temp.values():
        path.mkdir(exist_ok=True)
    user = "user root;\n" if os.geteuid() == 0 else ""
    (directory / "nginx.conf").write_text(
        f"{user}worker_processes 1;\npid {directory / 'nginx.pid'};\n"
        f"error_log {error_log} info;\ndaemon off;\n"
        "events { worker_connections 64; }\n"
        "http {\n"
        f"  access_log off;\n"
        f"  client_body_temp_path {temp['body']};\n  proxy_temp_path {temp['proxy']};\n"
        f"  fastcgi_temp_path {temp['fastcgi']};\n  uwsgi_temp_path {temp['uwsgi']};\n"
        f"  scgi_temp_path {temp['scgi']};\n"
        f"  include {directory / 'e-gomruk.conf'};\n"
        "}\n"
    )
    process = subprocess.Popen(
        [binary, "-e", str(error_log), "-p", str(directory), "-c", str(directory / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(portal_port, process, error_log)
        _wait_for_port(e_imza_port, process, error_log)
        yield RunningFront(
            portal_url=f"https://127.0.0.1:{portal_port}",
            e_imza_url=f"https://127.0.0.1:{e_imza_port}/login/e-imza",
            error_log=error_log,
        )
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
