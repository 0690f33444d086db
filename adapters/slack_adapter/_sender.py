"""SlackSender: the outbox's Slack side (cards, card updates, the public relay, notices)."""

import logging
from collections.abc import Mapping
from typing import Any, cast

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters._review import decided_card, status_line
from adapters.slack_adapter._errors import to_send_error
from adapters.slack_adapter._render import card_blocks, card_text, escape
from bot.errors import BotError, CannotReconcile, SendError
from bot.models import EffectKind, OutboxEffect, PublishPayload, TextPayload
from bot.review import CardPost, CardUpdate

log = logging.getLogger(__name__)

METADATA_EVENT = "jokebot_effect"
# Errors after which a DM is the only way left to reach the requester.
_EPHEMERAL_IMPOSSIBLE = {
    "channel_not_found",
    "not_in_channel",
    "user_not_in_channel",
    "is_archived",
    "restricted_action",
}


class SlackSender:
    """Implements :class:`bot.ports.EffectSender` with ``chat.*`` calls.

    Every posted message carries ``metadata={"event_type": "jokebot_effect", ...}`` with the
    effect id, so :meth:`reconcile` can find it in ``conversations.history``.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        history_limit: int = 200,
        pool: AsyncWebClient | None = None,
    ) -> None:
        self._client = client
        self._history_limit = history_limit
        self._pool = pool

    def _borrow_session(self) -> None:
        # Use the running app's connection pool when there is one (see shared_session);
        # otherwise slack_sdk opens a session per call, which needs no closing.
        self._client.session = self._pool.session if self._pool is not None else None

    async def send(self, effect: OutboxEffect) -> str:
        self._borrow_session()
        try:
            return await self._send(effect)
        except BotError:
            raise
        except Exception as exc:  # every SDK / transport failure becomes one of ours
            raise to_send_error(exc) from exc

    async def _send(self, effect: OutboxEffect) -> str:
        if effect.kind is EffectKind.REVIEW_POST:
            post = cast(CardPost, effect.payload)
            blocks = card_blocks(post["card"], token=post["token"])
            text = escape(card_text(post["card"]))
            return await self._post(effect.surface.channel, text, effect, blocks)
        if effect.kind is EffectKind.REVIEW_UPDATE:
            return await self._update_card(effect)
        if effect.kind is EffectKind.PUBLISH:
            return await self._post(effect.surface.channel, _publish_text(effect), effect)
        if effect.kind is EffectKind.NOTIFY:
            return await self._notify(effect)
        if effect.kind is EffectKind.ALERT:
            alert = cast(TextPayload, effect.payload)
            text = f"⚠️ {escape(alert['text'])}"
            return await self._post(effect.surface.channel, text, effect)
        raise SendError(f"slack: unknown effect kind {effect.kind!r}", retryable=False)

    async def _post(
        self, channel: str, text: str, effect: OutboxEffect, blocks: list[Any] | None = None
    ) -> str:
        resp = await self._client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=blocks,
            metadata={
                "event_type": METADATA_EVENT,
                "event_payload": {"effect_id": effect.effect_id},
            },
            unfurl_links=False,
        )
        return f"{resp.get('channel') or channel}:{resp['ts']}"

    async def _update_card(self, effect: OutboxEffect) -> str:
        if not effect.card_ref or ":" not in effect.card_ref:
            raise SendError(
                f"slack: review.update without a card ref ({effect.card_ref!r})", retryable=False
            )
        channel, ts = effect.card_ref.split(":", 1)
        update = cast(CardUpdate, effect.payload)
        card, status = decided_card(update), status_line(update)
        await self._client.chat_update(
            channel=channel,
            ts=ts,
            text=f"{status}: {escape(card.get('topic', ''))}",
            blocks=card_blocks(card, token=None, status=status),
        )
        return effect.card_ref

    async def _notify(self, effect: OutboxEffect) -> str:
        origin, text = effect.origin, escape(cast(TextPayload, effect.payload)["text"])
        user = origin.requester.user_id
        if origin.reply_channel:
            try:
                resp = await self._client.chat_postEphemeral(
                    channel=origin.reply_channel, user=user, text=text
                )
                return f"ephemeral:{origin.reply_channel}:{resp.get('message_ts', '')}"
            except SlackApiError as exc:
                error = str(exc.response.get("error", ""))
                if error not in _EPHEMERAL_IMPOSSIBLE:
                    raise
                # An ephemeral needs the bot and the user in that channel (a DM with another
                # person, a channel the bot left): the requester must still hear the outcome.
                log.info("slack: notice to %s by DM, ephemeral failed: %s", user, error)
        # chat.postMessage to a user id posts in the app's DM with that user.
        return await self._post(user, text, effect)

    async def reconcile(self, effect: OutboxEffect) -> str | None:
        if effect.kind in (EffectKind.REVIEW_UPDATE, EffectKind.NOTIFY):
            # chat.update is idempotent; an ephemeral notice cannot be looked up and a second
            # one is harmless, so "not applied" is the useful answer for both.
            return None
        self._borrow_session()
        channel = effect.surface.channel
        try:
            resp = await self._client.conversations_history(
                channel=channel, include_all_metadata=True, limit=self._history_limit
            )
        except SlackApiError as exc:
            error = exc.response.get("error", "")
            if exc.response.status_code == 429 or exc.response.status_code >= 500:
                raise to_send_error(exc) from exc
            raise CannotReconcile(f"slack: conversations.history in {channel}: {error}") from exc
        except Exception as exc:
            raise to_send_error(exc) from exc
        for message in resp.get("messages") or []:
            if _effect_id(message) == effect.effect_id:
                return f"{channel}:{message['ts']}"
        return None


def _publish_text(effect: OutboxEffect) -> str:
    joke = cast(PublishPayload, effect.payload)
    requester = joke.get("requester") or effect.origin.requester.display
    text, topic = escape(joke["text"]), escape(joke.get("topic", ""))
    return f"{text}\n— requested by {requester}, about “{topic}”"


def _effect_id(message: Mapping[str, Any]) -> str | None:
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != METADATA_EVENT:
        return None
    payload = metadata.get("event_payload")
    return str(payload.get("effect_id")) if isinstance(payload, Mapping) else None
