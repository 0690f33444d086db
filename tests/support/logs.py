"""Capturing log lines exactly as ``bot.logs`` formats them, for the log tests."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from bot import logs


class Lines(logging.Handler):
    """A handler that keeps every formatted line (context attached, no redaction unless asked)."""

    def __init__(self, fmt: logs.LogFormat, *, redact: tuple[str, ...] | None = None) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.addFilter(logs.ContextFilter())
        if redact is not None:
            self.addFilter(logs.RedactingFilter(redact))
        self.setFormatter(logs.JsonFormatter() if fmt == "json" else logs.TextFormatter())

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def captured(
    fmt: logs.LogFormat, *, redact: tuple[str, ...] | None = None, level: int = logging.DEBUG
) -> Iterator[Lines]:
    """Every record logged anywhere in the block, at ``level`` and above, as formatted lines."""
    root = logging.getLogger()
    lines, before = Lines(fmt, redact=redact), root.level
    root.addHandler(lines)
    root.setLevel(level)
    try:
        yield lines
    finally:
        root.removeHandler(lines)
        root.setLevel(before)
