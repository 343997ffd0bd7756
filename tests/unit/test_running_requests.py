"""The app's shutdown waits for the requests still running (uvicorn cancels them when the
grace ends and would end the process before they unwind): RunningRequests and the request
context middleware that fills it."""

from __future__ import annotations

import asyncio
import time

from web.platform import middleware as middleware_module
from web.platform.middleware import RunningRequests, request_context_middleware

SCOPE = {"type": "http", "method": "POST", "path": "/documents/new", "headers": []}


async def _receive():
    return {"type": "http.request", "body": b"", "more_body": False}


async def _send(message) -> None:
    pass


async def test_a_request_is_running_until_it_has_answered_and_the_shutdown_waits_for_it():
    running = RunningRequests()
    unwound = []
    cancelled = asyncio.Event()

    async def upload(scope, receive, send) -> None:
        try:
            await asyncio.Event().wait()  # the body that never comes
        except asyncio.CancelledError:
            cancelled.set()
            await asyncio.sleep(0.2)  # the temp file removed in a thread, the 503 rendered
            unwound.append("503")
            await send({"type": "http.response.start", "status": 503, "headers": []})

    middleware = request_context_middleware(upload, running=running)
    task = asyncio.create_task(middleware(dict(SCOPE), _receive, _send))
    await asyncio.sleep(0.01)
    assert running.tasks == {task}
    task.cancel()  # as uvicorn does when the grace runs out
    await cancelled.wait()
    await running.finished(timeout=5)
    assert unwound == ["503"]
    assert task.done() and running.tasks == set()


class Log:
    def __init__(self) -> None:
        self.events: list[str] = []

    def warning(self, event: str, **fields) -> None:
        self.events.append(event)

    info = warning


async def test_the_shutdown_waits_no_longer_than_its_timeout(monkeypatch):
    running = RunningRequests()
    log = Log()
    monkeypatch.setattr(middleware_module, "log", log)

    async def stuck(scope, receive, send) -> None:
        await asyncio.Event().wait()

    task = asyncio.create_task(
        request_context_middleware(stuck, running=running)(dict(SCOPE), _receive, _send)
    )
    await asyncio.sleep(0.01)
    started = time.monotonic()
    await running.finished(timeout=0.2)
    assert 0.15 < time.monotonic() - started < 2
    assert log.events == ["requests_still_running_at_shutdown"]
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert running.tasks == set()


async def test_nothing_running_means_no_wait():
    started = time.monotonic()
    await RunningRequests().finished(timeout=5)
    assert time.monotonic() - started < 0.1
