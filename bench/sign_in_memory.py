"""Memory of one worker during a burst of password sign-ins (argon2id), end to end.

Starts `python -m web serve` (one worker, a temporary DATA_DIR with the demo data, the code
of the current directory), signs in once to warm up, then sends SIGN_INS concurrent
sign-ins, each from its own client. Reports the worker's resident memory before the burst
and its peak during it (the kernel's high-water mark, VmHWM, reset just before the burst
through /proc/PID/clear_refs), and the burst's wall time.
Fails (exit 1) if the peak grows more than PEAK_BUDGET over the level before the burst.

Run: `python -m bench.sign_in_memory` (Linux only: it reads /proc).
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.support import sign_in

QUICK = os.environ.get("BENCH_QUICK") == "1"
SIGN_INS = 5 if QUICK else 20
PEAK_BUDGET = 128 * 1024 * 1024
DEMO_USERS = ("vetendas", "vetendas2", "katib", "icraci", "mufettis")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


async def _sign_in(base: str, username: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        await sign_in(client, username)


async def _burst(base: str) -> float:
    started = time.perf_counter()
    await asyncio.gather(
        *(_sign_in(base, DEMO_USERS[n % len(DEMO_USERS)]) for n in range(SIGN_INS))
    )
    return time.perf_counter() - started


def _wait_until_up(base: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError("the server exited early")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start")


def main() -> int:
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="egomruk-bench-") as data_dir:
        env = {
            **os.environ,
            "ENV": "development",
            "DATA_DIR": data_dir,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEB_CONCURRENCY": "1",
            "LOG_LEVEL": "WARNING",
            "SIGN_IN_RATE_LIMIT_PER_MINUTE": "100000",
            "RATE_LIMIT_PER_MINUTE": "100000",
        }
        env.pop("DATABASE_URL", None)
        env.pop("REDIS_URL", None)
        server = subprocess.Popen(
            [sys.executable, "-m", "web", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_up(base, server)
            asyncio.run(_sign_in(base, "vetendas"))  # warm-up: imports, pools, caches
            before = _status_kib(server.pid, "VmRSS")
            Path(f"/proc/{server.pid}/clear_refs").write_text("5")  # reset VmHWM
            seconds = asyncio.run(_burst(base))
            peak = _status_kib(server.pid, "VmHWM")
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    growth = peak - before
    print(
        f"{SIGN_INS} concurrent sign-ins: RSS before {before / 1024:.0f} MiB, "
        f"peak {peak / 1024:.0f} MiB (+{growth / 1024:.0f} MiB), {seconds:.2f} s"
    )
    if growth * 1024 > PEAK_BUDGET:
        print(f"FAIL: peak grew more than {PEAK_BUDGET // (1024 * 1024)} MiB")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
