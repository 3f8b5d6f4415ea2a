"""Structured logs: one JSON object per line on stderr, with any `extra` fields."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "color_message"}


_encode = json.JSONEncoder(default=str).encode  # json.dumps(..., default=str), built once


class JsonFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__()
        self._second = -1
        self._stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self._second:  # one strftime a second, not one a line
            self._stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        entry: dict[str, Any] = {
            "ts": f"{self._stamp}.{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD:
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return _encode(entry)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # the aws backend's boto3 says at INFO where it found credentials and endpoints, per
    # client: only its warnings are worth a line
    for noisy in ("botocore", "boto3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    # Lines show none of these record attributes (see JsonFormatter): not gathering them
    # saves their cost on every record, the access log's included.
    logging.logProcesses = False
    logging.logMultiprocessing = False
    logging.logThreads = False
