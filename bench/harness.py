"""What the server benchmarks share: a real server process on its own port (uvicorn through
`python -m web serve`, or granian on the same app), wrk in another process, targets
interleaved and repeated, rows printed as ratios with their goals, and services of their own
(a throw-away PostgreSQL database, a redis-server on a free port) that are gone afterwards.

`BENCH_QUICK=1` (the test suite's smoke run): small sizes, one short round, goals printed
but not enforced. A row whose service is missing is skipped with its reason; in CI
(`CI=true`) a missing service is a failure, as in the test suite.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.support.database import in_ci
from web.devdata.demo_data import DEMO_PASSWORD

QUICK = os.environ.get("BENCH_QUICK") == "1"
SECONDS = int(os.environ.get("BENCH_SECONDS", 1 if QUICK else 10))
REPETITIONS = 1 if QUICK else 3
# Each wrk run starts this long after the previous one ended. Back to back, some first
# requests on wrk's 50 new connections waited up to ~0.9 s while the previous run's 50 were
# being torn down — outside the server: its own log had every request answered within
# 40 ms and no pause between answers, and a run started after a pause showed none of it.
# Signed-in targets (larger answers, a session cookie) showed it, /healthz did not, so
# back-to-back runs gave the lookup a p99 of ~400 ms that was the load generator's.
SETTLE_SECONDS = 0 if QUICK else 2
CONNECTIONS = 50
CORES = os.cpu_count() or 1
COMPANY_VOEN = "1234567891"  # the demo citizen's company, Xəzər Logistika MMC
CITIZEN_FIN = "5ABCD12"  # the demo citizen's own party
ROOT = Path(__file__).resolve().parents[1]
POSTGRES_ADMIN_URL = os.environ.get(
    "BENCH_POSTGRES_URL",
    os.environ.get("TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
)
# Another checkout's server (its migrations, its routes) for a before/after comparison;
# the data at size is still seeded by this one's `seed-bench`.
SERVER_TREE = os.environ.get("BENCH_SERVER_TREE") or None
# The server's `sys.setswitchinterval` (issue 12: "a lower switch interval gave 7.5×"),
# set before the app is imported; empty: Python's default (5 ms).
SWITCH_INTERVAL = os.environ.get("BENCH_SWITCH_INTERVAL", "")


class Unavailable(Exception):
    """A service a row needs is missing (its text is the reason)."""


# --- rows ----------------------------------------------------------------------------------


@dataclass
class Row:
    """One measured figure and its goal: `value ≥ bound` (at_least) or `value ≤ bound`.
    Without a bound it is a figure for a decision (granian against uvicorn), not a goal.
    `not_checked`: measured, but the goal cannot be judged here (printed with the reason).
    `skipped`: not measured (the reason); a miss when `required` (CI)."""

    label: str
    value: float | None = None
    bound: float | None = None
    at_least: bool = True
    detail: str = ""
    not_checked: str = ""
    skipped: str = ""
    required: bool = False
    digits: int = 2
    no_goal: str = "a figure for a decision"  # said of a row without a bound

    @property
    def missed(self) -> bool:
        if self.skipped:
            return self.required
        if self.value is None:  # nothing to compare: no request finished in time
            return self.bound is not None
        if self.bound is None or self.not_checked:
            return False
        return self.value < self.bound if self.at_least else self.value > self.bound

    def line(self) -> str:
        if self.skipped:
            return f"{self.label}: skipped ({self.skipped}){' MISSED' if self.required else ''}"
        value = "—" if self.value is None else f"{self.value:.{self.digits}f}"
        text = f"{self.label}: {value}"
        if self.detail:
            text += f" ({self.detail})"
        if self.bound is None:
            return f"{text} (no goal: {self.no_goal})"
        goal = f"goal {'≥' if self.at_least else '≤'} {self.bound:g}"
        if self.not_checked:
            return f"{text} ({goal} not checked: {self.not_checked})"
        return f"{text} ({goal}) {'MISSED' if self.missed else 'ok'}"


def skipped_row(label: str, reason: str) -> Row:
    """A row that could not be measured: a failure in CI, a printed reason elsewhere."""
    return Row(label, skipped=reason, required=in_ci())


def report(rows: list[Row]) -> int:
    """Print the rows; the exit status: 1 when a goal was missed (never in a quick run)."""
    for row in rows:
        print(row.line())
    missed = [row for row in rows if row.missed]
    if missed and QUICK:
        print(f"(quick run: {len(missed)} goal(s) missed, not enforced)")
    return 1 if missed and not QUICK else 0


# --- processes -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def pinned(cpu: int | None, command: list[str]) -> list[str]:
    """`command` on one CPU (taskset) when there are two or more; `cpu=None`: anywhere."""
    if cpu is not None and CORES >= 2 and shutil.which("taskset"):
        return ["taskset", "-c", str(cpu), *command]
    return command


def web_env(data_dir: Path, database_url: str | None = None, **extra: str) -> dict[str, str]:
    """The environment of `python -m web …` for a benchmark: development (demo data, the
    seed-bench command), its own DATA_DIR and database, limits out of the way."""
    env = {
        **os.environ,
        "ENV": "development",
        "DATA_DIR": str(data_dir),
        "LOG_LEVEL": "WARNING",
        "HOST": "127.0.0.1",
        "RATE_LIMIT_PER_MINUTE": "100000000",
        "LETTER_LOOKUP_RATE_LIMIT_PER_MINUTE": "100000000",
        "SIGN_IN_RATE_LIMIT_PER_MINUTE": "100000",
    }
    for name in ("DATABASE_URL", "REDIS_URL", "WEB_CONCURRENCY", "SECRET_KEY", "STORAGE_URL"):
        env.pop(name, None)
    if database_url:
        env["DATABASE_URL"] = database_url
    env.update(extra)
    return env


def run_web(env: dict[str, str], *args: str, tree: str | None = None) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "web", *args], env=env, capture_output=True, text=True, cwd=tree
    )
    if result.returncode:
        raise RuntimeError(f"python -m web {' '.join(args)}:\n{result.stderr[-3000:]}")


def prepare_data(env: dict[str, str], documents: int, small: int) -> None:
    """Migrate, seed the demo data, and give the demo company `documents` documents over three
    years and the demo citizen's own party `small` over the last 30 days
    (`python -m web seed-bench`). Both default pages then show a full page of 20 rows (three
    years of 100 would show 3 in the last 30 days): the ratio compares the same page at two
    sizes of data, not a 20-row table with a 3-row one."""
    run_web(env, "migrate", tree=SERVER_TREE)
    run_web(env, "seed", tree=SERVER_TREE)
    run_web(env, "seed-bench", COMPANY_VOEN, str(documents))
    run_web(env, "seed-bench", CITIZEN_FIN, str(small), "--days", "30")


# Both servers' programs set the switch interval (argv[1], empty: Python's default) first.
_SWITCH_INTERVAL = "import sys\nif sys.argv[1]: sys.setswitchinterval(float(sys.argv[1]))\n"
_UVICORN = _SWITCH_INTERVAL + (
    "import runpy\n"
    "sys.argv = ['web', 'serve']\n"
    "runpy.run_module('web', run_name='__main__', alter_sys=True)\n"
)
_PROBE = _SWITCH_INTERVAL + (
    "from web.__main__ import run_server\n"
    "from web.settings import get_settings\n"
    "run_server(get_settings(), 'bench.probe_app:create_probe_app')\n"
)


@dataclass
class Server:
    """A server process on a free port: `kind` "uvicorn" (`python -m web serve`, what
    production runs, WEB_CONCURRENCY from `env`), "granian" (the same app factory, one
    worker) or "probe" (uvicorn as `serve` runs it, on the app plus bench/probe_app.py's
    signed-in no-op route); pinned to `cpu` (None: anywhere). Its log goes to
    DATA_DIR/server-PORT.log."""

    env: dict[str, str]
    kind: str = "uvicorn"
    cpu: int | None = 0
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def command(self) -> list[str]:
        if self.kind == "uvicorn":
            return [sys.executable, "-c", _UVICORN, SWITCH_INTERVAL]
        if self.kind == "probe":
            return [sys.executable, "-c", _PROBE, SWITCH_INTERVAL]
        if self.kind == "granian":
            return [
                *(sys.executable, "-m", "granian", "--interface", "asgi", "--factory"),
                *("--host", "127.0.0.1", "--port", str(self.port), "--workers", "1"),
                *("--no-ws", "--log-level", "warning", "web.app:create_served_app"),
            ]
        raise ValueError(self.kind)

    def start(self) -> Server:
        env = {**self.env, "PORT": str(self.port)}
        log_path = Path(self.env["DATA_DIR"]) / f"server-{self.port}.log"
        with log_path.open("ab") as log:
            self.process = subprocess.Popen(
                pinned(self.cpu, self.command()),
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=SERVER_TREE if self.kind == "uvicorn" else ROOT,
                start_new_session=True,  # its workers are stopped with it
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited early:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.kind} did not become healthy:\n{log_path.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # requests still running past the grace period
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def status_kib(pid: int, name: str) -> int:
    """A field of /proc/PID/status in KiB (VmRSS: resident now; VmHWM: its peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1])
    raise KeyError(name)


def reset_peak_rss(pid: int) -> None:
    """Start VmHWM again from the current resident set (Linux: clear_refs 5)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


# --- signing in and the targets -------------------------------------------------------------


def signed_in(base: str, party_identifier: str, username: str = "vetendas") -> str:
    """The Cookie header of `username` acting for the party with this FIN/VÖEN."""
    with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as client:
        client.get("/login")
        token = client.cookies.get("csrftoken")
        client.post(
            "/login/password",
            data={"username": username, "password": DEMO_PASSWORD, "_csrf_token": token},
        )
        page = client.get("/party").text
        for chunk in page.split('name="party"')[1:]:  # one radio and its hint each
            if party_identifier in chunk:
                party_id = re.search(r'value="(\d+)"', chunk).group(1)
                chosen = client.post("/party", data={"party": party_id, "_csrf_token": token})
                assert chosen.status_code == 303, chosen.status_code
                return "; ".join(f"{name}={value}" for name, value in client.cookies.items())
    raise RuntimeError(f"could not act for {party_identifier}")


def lookup_url(base: str, cookie: str) -> str:
    """The tracking lookup of the demo letter M-1024/2026 (found), checked once."""
    page = httpx.get(f"{base}/letters", headers={"Cookie": cookie}, timeout=60).text
    body = re.search(r'<option value="(\d+)"[^>]*>Bakı Baş', page).group(1)
    url = (
        f"{base}/letters/track?body={body}&number=M-1024%2F2026"
        "&registered-day=03&registered-month=11&registered-year=2026"
    )
    found = httpx.get(url, headers={"Cookie": cookie, "HX-Request": "true"}, timeout=60)
    assert found.status_code == 200 and "Elnur Həsənov" in found.text, found.status_code
    return url


@dataclass(frozen=True)
class Target:
    url: str
    cookie: str | None = None
    headers: tuple[str, ...] = ()


HTMX = ("HX-Request: true",)


def wrk(
    target: Target, *, threads: int = 1, cpu: int | None = 1, connections: int = CONNECTIONS
) -> dict[str, float]:
    """One wrk run: requests/s and p99 latency (ms). Fails on any non-2xx/3xx answer."""
    # wrk leaves answers slower than its timeout (2 s by default) out of the latencies: with
    # a long one, a slow page counts as slow instead of vanishing.
    command = [
        *("wrk", f"-t{threads}", f"-c{connections}", f"-d{SECONDS}s"),
        *("--latency", "--timeout", "60s"),
    ]
    for header in (*target.headers, *([f"Cookie: {target.cookie}"] if target.cookie else [])):
        command += ["-H", header]
    output = subprocess.run(
        pinned(cpu, [*command, target.url]), capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    value, unit = re.search(r"99%\s+([\d.]+)(us|ms|s)", output).groups()
    p99 = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    if errors := re.search(r"Socket errors: .*", output):
        print(f"{target.url}: {errors.group(0)}")
    if non_2xx := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        raise RuntimeError(f"{target.url}: {non_2xx.group(1)} responses were not 2xx/3xx")
    return {"rps": rps, "p99": p99}


@dataclass
class Measured:
    rps: float  # median of the repetitions
    p99: float  # median, ms
    spread: tuple[float, float]  # min and max requests/s


def measure(
    targets: dict[str, Target], *, threads: int = 1, cpu: int | None = 1
) -> dict[str, Measured]:
    """Each target `REPETITIONS` times, interleaved (a disturbance hits every target alike);
    prints each target's median throughput, spread and p99."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in targets}
    for _ in range(REPETITIONS):
        for name, target in targets.items():
            time.sleep(SETTLE_SECONDS)
            runs[name].append(wrk(target, threads=threads, cpu=cpu))
    measured = {}
    for name, results in runs.items():
        rps = [run["rps"] for run in results]
        measured[name] = Measured(
            rps=statistics.median(rps),
            p99=statistics.median(run["p99"] for run in results),
            spread=(min(rps), max(rps)),
        )
        print(
            f"{name:22} throughput {measured[name].rps:8.1f} req/s "
            f"(spread {min(rps):.1f}–{max(rps):.1f}), p99 {measured[name].p99:7.1f} ms"
        )
    return measured


def throughput_row(
    label: str,
    measured: dict[str, Measured],
    numerator: str,
    denominator: str,
    bound: float | None,
) -> Row:
    top, bottom = measured[numerator], measured[denominator]
    detail = f"{top.rps:.0f} vs {bottom.rps:.0f} req/s"
    if not bottom.rps:  # not one answer within the run: a far too slow target, or a stall
        return Row(label, None, bound, detail=f"{detail}: no {denominator} answered in time")
    return Row(label, top.rps / bottom.rps, bound, detail=detail)


# --- services of its own ----------------------------------------------------------------------


async def _postgres(admin_url: str, sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(
        admin_url.replace("postgres://", "postgresql://", 1), timeout=5
    )
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


@contextmanager
def postgres_database() -> Iterator[str]:
    """A new database on the PostgreSQL server (`BENCH_POSTGRES_URL`, else
    `TEST_POSTGRES_URL`, else the local one), dropped afterwards; its URL.
    Raises Unavailable when the server cannot be reached."""
    name = f"egomruk_bench_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_postgres(POSTGRES_ADMIN_URL, f'CREATE DATABASE "{name}"'))
    except Exception as error:
        raise Unavailable(
            f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {error}"
        ) from error
    try:
        yield f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        # FORCE: a server stopped mid-request may leave a connection behind.
        asyncio.run(_postgres(POSTGRES_ADMIN_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def redis_server() -> Iterator[str]:
    """A redis-server of its own on a free loopback port (never the shared one), killed
    afterwards; its URL. Raises Unavailable without the binary."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise Unavailable("redis-server is not installed (make redis-server installs it)")
    port = free_port()
    process = subprocess.Popen(
        [
            *(binary, "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no", "--loglevel", "warning"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise Unavailable("redis-server did not start") from None
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.kill()
        process.wait(timeout=10)


def have_wrk() -> str:
    """Empty when wrk is installed; else why not (a failure in CI)."""
    return "" if shutil.which("wrk") else "wrk is missing: `make bench` installs it (Debian wrk)"


@asynccontextmanager
async def app_in_process(
    extra_route_handlers: list | None = None,
) -> AsyncIterator[tuple[object, httpx.AsyncClient]]:
    """The app of this environment's settings in this process — migrated, demo data seeded,
    its lifespan running — and a client that calls it through ASGI (the in-process benches:
    counts and CPU per request, not throughput). `extra_route_handlers`: probe routes."""
    from web.app import create_app
    from web.devdata.demo_data import seed_demo_data
    from web.platform import db
    from web.settings import load_settings

    settings = load_settings()
    await db.migrate(settings)
    await db.init_db(settings)
    try:
        await seed_demo_data(settings)
    finally:
        await db.close_db()
    app = create_app(settings, extra_route_handlers)
    transport = httpx.ASGITransport(app=app)
    async with app.lifespan(), httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
        yield app, c
