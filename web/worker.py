"""The outbox worker: background jobs that must run once for the whole portal, not once per
web process. `python -m web worker` runs them until SIGTERM/SIGINT; on the embedded default
(SQLite, one machine) the web process runs them itself (`RUN_WORKER_IN_WEB=auto`), so
`make run` stays one command.

Jobs
----
* sending the notifications outbox by e-mail (when `SMTP_HOST` is set;
  `web/letters/notifications.py` claims rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL, so
  several workers on several machines never send one notice twice);
* forgetting the Asan İmza simulator's requests that expired a day ago (development).

Not here, on purpose: the sweep of interrupted uploads' temp files. Those live in each
instance's own temp folder (also with object storage: uploads are staged locally), so every
web instance sweeps its own at start (`web/storage/check.py: sweep_temp`); orphans in shared
storage are for `python -m web storage-check --remove-orphans`, run by an operator or cron.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from datetime import UTC, datetime, timedelta

import structlog

from models.asan import SimulatedTransaction
from web.letters import notifications
from web.platform import db
from web.platform.stores import housekeeping
from web.settings import Settings

log = structlog.get_logger("egomruk.worker")

CHORES_INTERVAL_SECONDS = 600.0
SIMULATED_TRANSACTION_RETENTION = timedelta(days=1)


def runs_in_web(settings: Settings) -> bool:
    """Whether web processes run the worker's jobs themselves: `RUN_WORKER_IN_WEB=auto`
    means only on the embedded default (SQLite: one machine, one process)."""
    if settings.run_worker_in_web == "auto":
        return settings.uses_sqlite
    return settings.run_worker_in_web == "true"


async def forget_expired_simulated_transactions(now: datetime | None = None) -> int:
    cutoff = (now or datetime.now(UTC)) - SIMULATED_TRANSACTION_RETENTION
    return await SimulatedTransaction.filter(expires_at__lt=cutoff).delete()


async def _chores_after_one_interval(stop: asyncio.Event) -> None:
    """The chores, first one interval after the start: a start (or a restart loop) costs
    nothing, and nothing runs beside the first requests."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=CHORES_INTERVAL_SECONDS)
    await housekeeping([forget_expired_simulated_transactions], CHORES_INTERVAL_SECONDS, stop)


def jobs(settings: Settings, stop: asyncio.Event) -> list[asyncio.Task]:
    """Start the worker's jobs as tasks; they end soon after `stop` is set."""
    tasks = [asyncio.create_task(_chores_after_one_interval(stop))]
    if settings.smtp_host:
        tasks.append(
            asyncio.create_task(
                notifications.delivery_loop(
                    notifications.smtp_sender(settings),
                    settings.notification_interval_seconds,
                    stop,
                    domain=settings.mail_domain,
                )
            )
        )
    return tasks


async def run_worker(settings: Settings) -> None:
    """`python -m web worker`: the jobs until SIGTERM or SIGINT (a send in progress ends
    first; a notice claimed and not sent is retried after its claim lapses)."""
    await db.init_db(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    log.info("worker_started", smtp=bool(settings.smtp_host))
    tasks = jobs(settings, stop)
    try:
        await stop.wait()
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks, return_exceptions=True)
        await db.close_db()
    log.info("worker_stopped")
