"""A real server process (`python -m web serve`) for tests that need one: e2e, kill -9,
SIGTERM, backup under load. Each gets its own DATA_DIR, port and log file."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{log_path.read_text()[-4000:]}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server did not become healthy:\n{log_path.read_text()[-4000:]}")


def server_environment(data_dir: Path, database_url: str | None, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "ENV": "development",
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_PER_MINUTE": "100000",
        "SIGN_IN_RATE_LIMIT_PER_MINUTE": "100000",
        "APPEALS_PER_DAY": "100000",  # the daily cap has tests of its own
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        **extra,
    }
    env.pop("DATABASE_URL", None)
    env.pop("SECRET_KEY", None)  # DATA_DIR/secret_key: what a backup carries
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


@dataclass
class ServerProcess:
    """`python -m web serve` with `env`; `start`, `stop` (SIGTERM), `kill` (SIGKILL)."""

    env: dict[str, str]
    preload: str | None = None  # a module imported first (a test's change to the server)
    log_path: Path = field(init=False)
    process: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self.log_path = Path(self.env["DATA_DIR"]).parent / f"server-{self.env['PORT']}.log"

    @property
    def url(self) -> str:
        return f"http://{self.env['HOST']}:{self.env['PORT']}"

    def start(self) -> ServerProcess:
        command = [sys.executable, "-m", "web", "serve"]
        if self.preload:
            load = f"import {self.preload}; from web.__main__ import main; main()"
            command = [sys.executable, "-c", load, "serve"]
        with self.log_path.open("a") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_until_healthy(self.url, self.process, self.log_path)
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 15) -> int:
        """SIGTERM, then wait (SIGKILL after `timeout`); returns the exit code."""
        if self.process is None:
            return 0
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def cli(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """Run `python -m web ARGS` against this server's DATA_DIR and database."""
        return subprocess.run(
            [sys.executable, "-m", "web", *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
