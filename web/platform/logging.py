"""Structured logs: one JSON object a line, with the request id bound by the middleware.

Everything goes through one stdlib handler, whoever logs: our structlog loggers, uvicorn,
asyncpg, Tortoise, Python warnings. Each record, traceback included, is rendered as one
JSON line and written with a single `os.write` on stdout, so the lines of several worker
processes sharing the stream never interleave (the kernel writes a pipe write of up to
PIPE_BUF = 4096 bytes at once; longer records, mostly tracebacks, are still one write).
uvicorn gets the same configuration (`logging_config`) for its own processes.

Our own structlog loggers render their line themselves and hand it to that handler's
`write` (`OneWriteLogger`): the same processors, so the same JSON, key for key, but without
the trip through a stdlib `LogRecord` (built twice: once by the logger, once more by the
formatter) and the handler machinery. That trip cost about 20 µs of CPU per line, and every
request writes one (the access line; issue 12). Records of other loggers still take it.
"""

from __future__ import annotations

import logging
import logging.config
import os
from typing import Any

import structlog


def _add_pid(logger: Any, method: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    event_dict.setdefault("pid", os.getpid())  # which worker process
    return event_dict


# What every record gets, whether it came from structlog or from the logging module.
_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,  # request_id while a request runs
    _add_pid,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


class OneWriteHandler(logging.Handler):
    """Write each formatted record plus its newline with one `os.write` (no buffering)."""

    def __init__(self, fd: int = 1) -> None:  # stdout
        super().__init__()
        self.fd = fd

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.write(self.format(record))
        except Exception:
            self.handleError(record)

    def write(self, line: str) -> None:
        data = memoryview((line + "\n").encode("utf-8", "replace"))
        while data:  # a short write (a signal) continues where it stopped
            data = data[os.write(self.fd, data) :]


# The root's handler, as the latest `configure_logging` made it (loggers are cached).
_handler = OneWriteHandler()


class OneWriteLogger:
    """What our structlog loggers write with: the line their processors rendered, written by
    the root's `OneWriteHandler` (one `os.write`). A failed write is reported as the handler
    reports its own (`handleError`: a note on stderr), never raised into the caller."""

    def __init__(self, name: str) -> None:
        self.name = name  # `add_logger_name` reads it

    def msg(self, line: str) -> None:
        handler = _handler
        try:
            handler.write(line)
        except Exception:
            handler.handleError(logging.makeLogRecord({"name": self.name, "msg": line}))

    debug = info = warning = warn = error = err = critical = fatal = exception = msg


# After the shared processors: what the formatter does to a record (the traceback as one
# string field, then the JSON line).
_RENDER: list[Any] = [
    structlog.processors.format_exc_info,
    structlog.processors.JSONRenderer(ensure_ascii=False),
]


def json_formatter() -> structlog.stdlib.ProcessorFormatter:
    """The formatter of every record (named by `dictConfig` in worker processes too)."""
    # dictConfig builds this in every process uvicorn starts, before the app is imported:
    # from here on Python warnings (a library's DeprecationWarning at import) are records too.
    logging.captureWarnings(True)
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED_PROCESSORS,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_RENDER],
    )


def logging_config(level: str) -> dict[str, Any]:
    """A plain `dictConfig` dict (picklable: uvicorn hands it to its worker processes)."""
    passthrough = {"handlers": [], "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": "web.platform.logging.json_formatter"}},
        "handlers": {
            "json": {"class": "web.platform.logging.OneWriteHandler", "formatter": "json"}
        },
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            **{name: passthrough for name in ("uvicorn", "uvicorn.error", "asyncpg", "tortoise")},
            # Our middleware logs every request with its id and duration: no second line.
            "uvicorn.access": {"handlers": [], "propagate": False},
        },
    }


def _logger_factory(name: str | None = None, *_: Any) -> OneWriteLogger:
    return OneWriteLogger(name or "")


def configure_logging(level: str) -> None:
    global _handler
    logging.config.dictConfig(logging_config(level))
    (_handler,) = logging.getLogger().handlers  # the OneWriteHandler dictConfig just made
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, *_RENDER],
        logger_factory=_logger_factory,
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        cache_logger_on_first_use=True,
    )
