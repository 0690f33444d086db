"""Was this effect already posted? Paging ``conversations.history`` until absence is proven.

Every message the sender posts carries ``metadata.event_payload.effect_id``. After a lost answer
(or a crash between the post and the outbox's record of it) the effect is looked up before it is
sent again. Slack pages history newest first and "may return fewer than the requested number of
items even if the end of the conversation history hasn't been reached", so a short page proves
nothing: only ``has_more: false`` does. The scan starts at the effect's creation (nothing it
posted can be older) minus a clock-skew margin; if the page budget ends first, or Slack refuses
or rate-limits the scan, absence is unproven and the answer is ``CannotReconcile``: the runtime
then marks the effect ``uncertain`` and alerts the moderators, never posting a second time.
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


@dataclass(frozen=True)
class HistoryScan:
    """How far one reconcile may read: ``pages`` pages of ``limit`` messages."""

    limit: int = 200
    pages: int = 20
    clock_skew_s: float = 300.0

    async def find(self, client: AsyncWebClient, channel: str, effect: OutboxEffect) -> str | None:
        """``channel:ts`` of the message carrying ``effect``'s id, or None once proven absent.

        Raises:
            CannotReconcile: the budget ran out, or Slack refused or rate-limited the scan.
            SendError / OutcomeUnknown: Slack is unreachable or failing; try again later.
        """
        since = None if effect.created_at is None else effect.created_at - self.clock_skew_s
        cursor, scanned = "", 0
        for _ in range(self.pages):
            page = await self._page(client, channel, since, cursor)
            messages = page.get("messages") or []
            for message in messages:
                if isinstance(message, Mapping) and effect_id(message) == effect.effect_id:
                    return f"{channel}:{message['ts']}"
            scanned += len(messages)
            meta = page.get("response_metadata")
            cursor = str(meta.get("next_cursor") or "") if isinstance(meta, Mapping) else ""
            if not page.get("has_more") and not cursor:
                return None  # every message since `since` (or ever) was read
            if not cursor:
                raise CannotReconcile(f"slack: {channel} history has more but gave no cursor")
        where = "since the effect was created" if since is not None else "(no creation time)"
        raise CannotReconcile(
            f"slack: {effect.effect_id} not among the {scanned} messages of {channel} read in "
            f"{self.pages} pages {where}; the rest is unread"
        )

    async def _page(
        self, client: AsyncWebClient, channel: str, since: float | None, cursor: str
    ) -> Mapping[str, Any]:
        args: dict[str, Any] = {
            "channel": channel,
            "include_all_metadata": True,
            "limit": self.limit,
        }
        if since is not None:
            args["oldest"] = f"{since:.6f}"
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


def effect_id(message: Mapping[str, Any]) -> str | None:
    """The effect id in a message's jokebot metadata, or None."""
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != METADATA_EVENT:
        return None
    payload = metadata.get("event_payload")
    return str(payload.get("effect_id")) if isinstance(payload, Mapping) else None
