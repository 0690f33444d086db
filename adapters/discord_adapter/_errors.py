"""Discord and transport failures mapped to bot.errors: SendError or OutcomeUnknown."""

import aiohttp
import discord

from bot.errors import BotError, OutcomeUnknown, SendError

_RETRYABLE_4XX = {408, 429}
# What a failed call may raise; anything else is a bug and propagates as itself.
TRANSPORT_ERRORS = (
    discord.RateLimited,
    discord.HTTPException,
    aiohttp.ClientError,
    TimeoutError,
    OSError,
)


def to_send_error(exc: BaseException, *, creates: bool) -> BotError:
    """The :mod:`bot.errors` equivalent of a failed Discord call.

    ``creates``: the call posts something, so a lost answer may hide a created message
    (OutcomeUnknown); edits and reads are idempotent and just retried (SendError).
    """
    if isinstance(exc, discord.RateLimited):
        return SendError(str(exc), retryable=True, retry_after=exc.retry_after)
    if isinstance(exc, discord.DiscordServerError):
        # discord.py already retried 5xx; a create may still have happened.
        if creates:
            return OutcomeUnknown(f"Discord {exc.status} after a create")
        return SendError(f"Discord {exc.status}", retryable=True)
    if isinstance(exc, discord.HTTPException):
        return _http_error(exc)
    if isinstance(exc, aiohttp.ClientConnectorError):
        # The connection was never made: nothing can have been applied.
        return SendError(f"cannot reach Discord: {exc}", retryable=True)
    if creates:
        return OutcomeUnknown(f"no answer from Discord: {exc!r}")
    return SendError(f"no answer from Discord: {exc!r}", retryable=True)


def _http_error(exc: discord.HTTPException) -> SendError:
    """A refused request; 429/408 may work later, other 4xx never will (permissions, gone)."""
    retry_after: float | None = None
    if exc.status == 429:
        header = exc.response.headers.get("Retry-After") if exc.response is not None else None
        retry_after = float(header) if header else None
    text = f"Discord {exc.status} (code {exc.code}): {exc.text}"
    return SendError(text, retryable=exc.status in _RETRYABLE_4XX, retry_after=retry_after)
