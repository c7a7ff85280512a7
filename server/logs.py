"""Log lines: one JSON object each (``VESTNIK_LOG_FORMAT=json``) or plain text.

:func:`configure_logging` sets up every logger (ours, uvicorn's error and access logs,
strawberry's) to write through one handler on stderr, and returns the same configuration
for ``uvicorn.run(log_config=...)``, which applies it again in each worker process.

A JSON line holds ``time`` (UTC, ISO 8601), ``level``, ``logger``, ``message``, the
``request_id`` when logged while a request is handled, a traceback as ``exc_info`` (inside
the one line), and any ``extra=`` fields.
"""

import logging
import logging.config
from datetime import UTC, datetime
from typing import Any, TextIO

from pythonjsonlogger.core import RESERVED_ATTRS
from pythonjsonlogger.json import JsonFormatter as _JsonFormatter

from server.middleware import current_request_id
from server.settings import Settings

# uvicorn adds an ANSI-coloured copy of some messages; it has no place in a JSON line.
_NOT_FIELDS = ("color_message", "request_id")
# The arguments of uvicorn's access log call: client, method, path, HTTP version, status.
_ACCESS_ARGS = 5


class RequestIdFilter(logging.Filter):
    """Stamp each record with the id of the request being handled (None outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get()
        return True


def _utc_time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class JsonFormatter(_JsonFormatter):
    """One JSON object per record, on one line."""

    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            reserved_attrs=[*RESERVED_ATTRS, *_NOT_FIELDS],
            json_ensure_ascii=False,
        )

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc_time(record)

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message_dict)
        request_id = getattr(record, "request_id", None)
        if request_id is not None:
            log_data["request_id"] = request_id
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            if len(record.args) == _ACCESS_ARGS:
                _, method, path, _, status = record.args
                log_data.update(method=method, path=path, status=status)


class TextFormatter(logging.Formatter):
    """``time LEVEL logger [request id] message``, for people reading a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return _utc_time(record)

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return super().format(record)


def log_config(settings: Settings, stream: TextIO | None = None) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary: everything to one handler on ``stream``.

    uvicorn's loggers lose their own handlers and propagate to the root, so its start-up,
    error and access lines get the same format as ours.
    """
    level = settings.log_level.upper()
    formatter = JsonFormatter if settings.log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": f"{__name__}.RequestIdFilter"}},
        "formatters": {"vestnik": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {
            "vestnik": {
                "class": "logging.StreamHandler",
                "formatter": "vestnik",
                "filters": ["request_id"],
                "stream": stream or "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["vestnik"], "level": level},
        "loggers": {
            name: {"handlers": [], "level": level, "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def configure_logging(settings: Settings, stream: TextIO | None = None) -> dict[str, Any]:
    """Configure logging for this process; returns the configuration for uvicorn's workers."""
    config = log_config(settings, stream)
    logging.config.dictConfig(config)
    return config
