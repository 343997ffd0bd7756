"""Run every benchmark (`make bench`), each in a process of its own (the app's and the
ORM's global state stays with it); exits 1 when any of them missed a goal or failed."""

from __future__ import annotations

import subprocess
import sys
import time

MEMBERS = (
    ("page weight (bytes on the wire, real server)", "bench.page_weight"),
    ("upload memory (storage alone)", "bench.upload_memory"),
    ("50 MB upload through the portal (real server, RSS)", "bench.upload_http"),
    ("sign-in memory (argon2id)", "bench.sign_in_memory"),
    ("SQL statements and store round trips per request", "bench.round_trips"),
    ("the issue 12 table on SQLite, and granian against uvicorn", "bench.server_load"),
    ("the PostgreSQL rows and two workers against one", "bench.postgres_load"),
)


def main() -> int:
    failed = []
    for title, module in MEMBERS:
        print(f"== {title} (python -m {module}) ==", flush=True)
        started = time.monotonic()
        status = subprocess.run([sys.executable, "-m", module]).returncode
        print(f"-- {module}: exit {status}, {time.monotonic() - started:.0f} s", flush=True)
        if status:
            failed.append(module)
    if failed:
        print(f"missed a goal or failed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
