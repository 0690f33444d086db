"""SlackSender: the outbox's Slack side (cards, card updates, the public relay, notices)."""

import logging
from collections.abc import Mapping
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter._blocks import card_blocks, card_text, escape
from adapters.slack_adapter._errors import to_send_error
from bot.errors import BotError, CannotReconcile, SendError
from bot.models import EffectKind, OutboxEffect
from bot.review import outcome_line

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
        origin, payload = effect.origin, effect.payload
        if effect.kind is EffectKind.REVIEW_POST:
            card = _card(payload)
            token = str(payload["token"])
            blocks = card_blocks(card, token=token)
            return await self._post(origin.mod_channel, escape(card_text(card)), effect, blocks)
        if effect.kind is EffectKind.REVIEW_UPDATE:
            return await self._update_card(effect)
        if effect.kind is EffectKind.PUBLISH:
            return await self._post(origin.public_channel, _publish_text(effect), effect)
        if effect.kind is EffectKind.NOTIFY:
            return await self._notify(effect)
        if effect.kind is EffectKind.ALERT:
            text = f"⚠️ {escape(str(payload.get('text', '')))}"
            return await self._post(origin.mod_channel, text, effect)
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
        payload = effect.payload
        card = dict(_card(payload))
        if payload.get("outcome") == "edit" and payload.get("text"):
            card["draft"] = payload["text"]  # the card shows what was published
        status = outcome_line(
            str(payload.get("outcome", "")),
            str(payload.get("actor") or "a moderator"),
            str(payload.get("reason") or ""),
        )
        await self._client.chat_update(
            channel=channel,
            ts=ts,
            text=f"{status}: {escape(str(card.get('topic', '')))}",
            blocks=card_blocks(card, token=None, status=status),
        )
        return effect.card_ref

    async def _notify(self, effect: OutboxEffect) -> str:
        origin, text = effect.origin, escape(str(effect.payload.get("text", "")))
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
        channel = (
            effect.origin.public_channel
            if effect.kind is EffectKind.PUBLISH
            else effect.origin.mod_channel
        )
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


def _card(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    card = payload.get("card")
    return card if isinstance(card, Mapping) else {}


def _publish_text(effect: OutboxEffect) -> str:
    payload = effect.payload
    requester = str(payload.get("requester") or effect.origin.requester.display)
    text, topic = escape(str(payload.get("text", ""))), escape(str(payload.get("topic", "")))
    return f"{text}\n— requested by {requester}, about “{topic}”"


def _effect_id(message: Mapping[str, Any]) -> str | None:
    metadata = message.get("metadata")
    if not isinstance(metadata, Mapping) or metadata.get("event_type") != METADATA_EVENT:
        return None
    payload = metadata.get("event_payload")
    return str(payload.get("effect_id")) if isinstance(payload, Mapping) else None
