"""Was this effect already posted? Paging ``conversations.history`` until absence is proven.

Every message the sender posts carries ``metadata.event_payload.effect_id``. After a lost answer
(or a crash between the post and the outbox's record of it) the effect is looked up before it is
sent again. Slack pages history newest first and "may return fewer than the requested number of
items even if the end of the conversation history hasn't been reached", so a short page proves
nothing: only ``has_more: false`` does.

Nothing the effect posted can be older than its creation (minus a clock-skew margin). In a quiet
channel one page of everything since then settles it. In a busy one the post is usually within
a moment of its creation, however many messages followed: the scan then reads time windows
forward from the creation, each twice as long as the last (``oldest``/``latest``, inclusive: a
message on a boundary is read twice, never missed), each paged newest first to its end, up to
where that first page began, then the skew margin before the creation. If the page budget ends
first, or Slack refuses or rate-limits the scan, absence is unproven and the answer is
``CannotReconcile``: the runtime then marks the effect ``uncertain`` and alerts the moderators,
never posting a second time.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter._errors import to_send_error
from bot.errors import CannotReconcile
from bot.models import OutboxEffect

METADATA_EVENT = "jokebot_effect"
NEAR_S = 0.1  # the first window of a busy channel starts this long before the creation
# Ends of its windows after the creation: 0.1 s, 0.3 s, 0.7 s ... about 109 minutes.
WINDOW_ENDS_S = tuple(NEAR_S * (2**k - 1) for k in range(1, 17))
Window = tuple[float | None, float | None]  # (oldest, latest); None: unbounded


@dataclass(frozen=True)
class HistoryScan:
    """How far one reconcile may read: ``pages`` pages of ``limit`` messages in all."""

    limit: int = 200
    pages: int = 20
    clock_skew_s: float = 300.0

    async def find(self, client: AsyncWebClient, channel: str, effect: OutboxEffect) -> str | None:
        """``channel:ts`` of the message carrying ``effect``'s id, or None once proven absent.

        Raises:
            CannotReconcile: the budget ran out, or Slack refused or rate-limited the scan.
            SendError / OutcomeUnknown: Slack is unreachable or failing; try again later.
        """
        scan = _Scan(self, client, channel, effect)
        created = effect.created_at
        if created is None:
            return await scan.window((None, None))
        found = await scan.window((created - self.clock_skew_s, None), first_page_only=True)
        if found is not None or scan.complete or scan.oldest_read is None:
            return found  # a quiet channel: one page held everything since the creation
        for window in self.windows(created, scan.oldest_read):
            if (found := await scan.window(window)) is not None:
                return found
        return None  # every window up to now was read: the effect was never posted

    def windows(self, created: float, read_from: float) -> list[Window]:
        """A busy channel's windows: forward from the creation, then the skew margin.

        The forward ones stop at ``read_from``, where the newest page (already read) began.
        """
        edges = [created - NEAR_S] + [created + end for end in WINDOW_ENDS_S]
        windows: list[Window] = []
        for oldest, latest in zip(edges, [*edges[1:], None], strict=True):
            if oldest > read_from:
                break
            windows.append((oldest, read_from if latest is None or latest > read_from else latest))
        if self.clock_skew_s > NEAR_S:
            windows.append((created - self.clock_skew_s, created - NEAR_S))
        return windows

    async def page(
        self, client: AsyncWebClient, channel: str, window: Window, cursor: str
    ) -> Mapping[str, Any]:
        """One ``conversations.history`` page of ``window`` (errors as :meth:`find` says)."""
        args: dict[str, Any] = {
            "channel": channel,
            "include_all_metadata": True,
            "limit": self.limit,
        }
        oldest, latest = window
        if oldest is not None:
            args["oldest"] = f"{oldest:.6f}"
            args["inclusive"] = True
        if latest is not None:
            args["latest"] = f"{latest:.6f}"
        if cursor:
            args["cursor"] = cursor
        try:
            resp = await client.conversations_history(**args)
        except SlackApiError as exc:
            status, error = exc.response.status_code, str(exc.response.get("error", ""))
            if status >= 500 or error in ("internal_error", "fatal_error", "service_unavailable"):
                raise to_send_error(exc) from exc  # Slack is failing: try the lookup later
            # ratelimited (after the client's own Retry-After retries), not_in_channel,
            # missing_scope, invalid_cursor...: the scan cannot be completed now.
            raise CannotReconcile(
                f"slack: conversations.history in {channel}: {error or status}"
            ) from exc
        except Exception as exc:  # transport: unreachable or no answer
            raise to_send_error(exc) from exc
        data = resp.data
        return data if isinstance(data, Mapping) else {}


class _Scan:
    """One reconcile's reading, across windows, within the page budget."""

    def __init__(
        self, budget: HistoryScan, client: AsyncWebClient, channel: str, effect: OutboxEffect
    ) -> None:
        self.budget, self.client, self.channel, self.effect = budget, client, channel, effect
        self.pages = self.scanned = 0
        self.complete = False  # the last window was read to its end
        self.oldest_read: float | None = None  # the ts of the oldest message of the last page

    async def window(self, window: Window, *, first_page_only: bool = False) -> str | None:
        """The effect's ``channel:ts`` if it is in ``window``; sets :attr:`complete`."""
        cursor, self.complete = "", False
        while True:
            if self.pages == self.budget.pages:
                raise CannotReconcile(
                    f"slack: {self.effect.effect_id} not among the {self.scanned} messages of "
                    f"{self.channel} read in {self.pages} pages; the rest is unread"
                )
            page = await self.budget.page(self.client, self.channel, window, cursor)
            self.pages += 1
            messages = page.get("messages") or []
            for message in messages:
                if isinstance(message, Mapping) and effect_id(message) == self.effect.effect_id:
                    return f"{self.channel}:{message['ts']}"
            self.scanned += len(messages)
            stamps = [_ts(m) for m in messages if isinstance(m, Mapping)]
            self.oldest_read = min((t for t in stamps if t is not None), default=None)
            meta = page.get("response_metadata")
            cursor = str(meta.get("next_cursor") or "") if isinstance(meta, Mapping) else ""
            if not page.get("has_more") and not cursor:
                self.complete = True
                return None
            if not cursor:
                raise CannotReconcile(f"slack: {self.channel} history has more but no cursor")
            if first_page_only:
                return None


def _ts(message: Mapping[str, Any]) -> float | None:
    try:
        return float(message["ts"])
    except (KeyError, TypeError, ValueError):
        return None


def effect_id(message: Mapping[str, Any]) -> str | None:
    """The effect id in a message's jokebot metadata, or None."""
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != METADATA_EVENT:
        return None
    payload = metadata.get("event_payload")
    return str(payload.get("effect_id")) if isinstance(payload, Mapping) else None
