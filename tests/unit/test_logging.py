"""Our structlog loggers render their lines themselves (`OneWriteLogger`), not through a
stdlib record and the formatter: the lines must be the ones that path wrote (`reference`
below: the configuration as it was), key for key, traceback included."""

from __future__ import annotations

import json
import logging
import os

import pytest
import structlog

from web.platform import logging as portal_logging


def _read(fd: int) -> list[str]:
    os.set_blocking(fd, False)
    try:
        data = os.read(fd, 1 << 20)
    except BlockingIOError:
        data = b""
    return data.decode().splitlines()


def _reference(level: str) -> None:
    """The configuration before: structlog hands its event to the stdlib logger, whose
    handler formats it with `json_formatter`."""
    logging.config.dictConfig(portal_logging.logging_config(level))
    structlog.configure(
        processors=[
            *portal_logging._SHARED_PROCESSORS,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=False,
    )


def _events() -> None:
    log = structlog.get_logger("egomruk.access")
    structlog.contextvars.bind_contextvars(request_id="abc")
    try:
        log.info("request", method="GET", path="/ünvan", client="::1", status=200, ms=1.5)
        log.warning("odd %s", "thing", count=3)
        log.debug("not written at INFO")
        try:
            raise ValueError("xətа")
        except ValueError:
            log.exception("unhandled_exception", path="/x")
        logging.getLogger("uvicorn.error").info("from the stdlib %s", "too")
    finally:
        structlog.contextvars.unbind_contextvars("request_id")


def _lines(configure, monkeypatch) -> list[dict]:
    read, write = os.pipe()
    try:
        configure("INFO")
        monkeypatch.setattr(logging.getLogger().handlers[0], "fd", write)
        _events()
        records = [json.loads(line) for line in _read(read)]
    finally:
        os.close(read)
        os.close(write)
    for record in records:
        assert record.pop("timestamp").endswith("Z")
    return records


@pytest.fixture(autouse=True)
def _restore():
    yield
    structlog.reset_defaults()
    portal_logging.configure_logging("INFO")


def test_structlog_lines_are_the_ones_the_stdlib_path_wrote(monkeypatch) -> None:
    expected = _lines(_reference, monkeypatch)
    got = _lines(portal_logging.configure_logging, monkeypatch)
    assert [list(record) for record in got] == [list(record) for record in expected]  # order
    assert got == expected
    assert [record["event"] for record in got] == [
        "request",
        "odd thing",
        "unhandled_exception",
        "from the stdlib too",
    ]
    assert "ValueError: xətа" in got[2]["exception"]


def test_a_failed_write_is_reported_not_raised(monkeypatch, capsys) -> None:
    portal_logging.configure_logging("INFO")
    monkeypatch.setattr(logging.getLogger().handlers[0], "fd", 987654)  # not open
    structlog.get_logger("egomruk.access").info("request")  # no exception
    assert "Logging error" in capsys.readouterr().err
