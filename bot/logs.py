"""Log lines as text or JSON, with the context of the work (run, request, surface), redacted.

The runtime, the service and the supervisor bind ``run_id``, ``request_key``, ``platform`` and
``surface`` with :func:`bound` where the work happens; every record logged inside (in that task,
and in tasks or threads it starts) carries them. :func:`handler` builds the one stderr handler
the CLI installs. Secrets are never logged on purpose; :class:`RedactingFilter` masks known
secret values and token-shaped strings anyway, as defence in depth.
"""

import json
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Literal

LogFormat = Literal["text", "json"]

CONTEXT: dict[str, ContextVar[str | None]] = {
    name: ContextVar(f"jokebot_{name}", default=None)
    for name in ("run_id", "request_key", "platform", "surface")
}
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
MASK = "***"
# token shapes: Slack (xoxb-, xoxp-, xapp-), OpenAI-style keys, Authorization headers,
# Discord bot tokens (three base64url parts), passwords in database URLs
PATTERNS = (
    (re.compile(r"\bxox[a-z]-[A-Za-z0-9-]{6,}"), MASK),
    (re.compile(r"\bxapp-[A-Za-z0-9-]{6,}"), MASK),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), MASK),
    (re.compile(r"\b(Bot|Bearer)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {MASK}"),
    (re.compile(r"\b[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{20,}"), MASK),
    (re.compile(r"://([^:/@\s]+):([^@\s]+)@"), rf"://\1:{MASK}@"),
)


@contextmanager
def bound(**values: str) -> Iterator[None]:
    """Within the block, records carry these context fields (run_id, request_key, ...)."""
    tokens = [(CONTEXT[name], CONTEXT[name].set(value)) for name, value in values.items()]
    try:
        yield
    finally:
        for var, token in reversed(tokens):
            var.reset(token)


def context() -> dict[str, str]:
    """The context fields bound right now."""
    return {name: value for name, var in CONTEXT.items() if (value := var.get()) is not None}


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret value and token-shaped string masked."""
    for secret in secrets:
        text = text.replace(secret, MASK)
    for pattern, replacement in PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class ContextFilter(logging.Filter):
    """Attach the bound context to each record (read where the record is made)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.jokebot_context = context()
        return True


class RedactingFilter(logging.Filter):
    """Mask secrets in the message and the traceback of every record before it is formatted."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # short values would mask ordinary words; real tokens are long
        self._secrets = tuple(sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True))
        self._plain = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: the handler reports it as logging does
            return True
        record.msg, record.args = redact(message, self._secrets), None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._plain.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self._secrets)
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self._secrets)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context, the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update(getattr(record, "jokebot_context", None) or {})
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The classic line, plus ``[run_id=... platform=...]`` when context is bound."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def formatMessage(self, record: logging.LogRecord) -> str:  # logging's camelCase name
        text = super().formatMessage(record)
        fields = getattr(record, "jokebot_context", None) or {}
        if fields:
            text += " [" + " ".join(f"{k}={v}" for k, v in fields.items()) + "]"
        return text


def handler(fmt: LogFormat = "text", secrets: Iterable[str] = ()) -> logging.Handler:
    """The stderr handler the CLI installs: context, redaction, then text or JSON lines."""
    out = logging.StreamHandler(sys.stderr)
    out.addFilter(ContextFilter())
    out.addFilter(RedactingFilter(secrets))
    out.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    return out
