"""Slack and transport failures mapped to bot.errors: SendError or OutcomeUnknown."""

import asyncio

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.errors import BotError, OutcomeUnknown, SendError

# Slack's own words for "this may have been applied" (api.slack.com error docs).
_MAYBE_APPLIED = {"internal_error", "fatal_error", "request_timeout"}
# Worth trying again later; Slack did not apply the call.
_RETRYABLE = {"ratelimited", "service_unavailable", "team_added_to_org"}


def to_send_error(exc: BaseException) -> BotError:
    """The :mod:`bot.errors` equivalent of a failed Web API call.

    A refusal (``ok: false``) was not applied: ``SendError``, retryable for 429 / 5xx /
    outages. A connection that was never established is retryable too. A timeout or a
    connection lost after the request was sent may have been applied: ``OutcomeUnknown``.
    """
    if isinstance(exc, SlackApiError):
        status = exc.response.status_code
        error = str(exc.response.get("error", "") or f"HTTP {status}")
        message = f"slack: {error}"
        if error in _MAYBE_APPLIED or (status >= 500 and status != 503):
            return OutcomeUnknown(message)  # a gateway error says nothing about the backend
        if status in (429, 503) or error in _RETRYABLE:
            return SendError(message, retryable=True, retry_after=_retry_after(exc))
        return SendError(message, retryable=False)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return SendError(f"slack unreachable: {exc}", retryable=True)
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return OutcomeUnknown(f"slack: no answer ({type(exc).__name__}: {exc})")
    return OutcomeUnknown(f"slack: unexpected {type(exc).__name__}: {exc}")


def _retry_after(exc: SlackApiError) -> float | None:
    value = exc.response.headers.get("Retry-After") or exc.response.headers.get("retry-after")
    if isinstance(value, list):  # slack_sdk keeps header values as lists
        value = value[0] if value else None
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None
