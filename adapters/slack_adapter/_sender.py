"""SlackSender: the outbox's Slack side (cards, card updates, the public relay, notices)."""

import logging
from typing import Any, cast

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter import _messages as messages
from adapters.slack_adapter._errors import to_send_error
from adapters.slack_adapter._reconcile import METADATA_EVENT, HistoryScan
from adapters.slack_adapter._render import card_blocks, card_text, decided
from adapters.slack_adapter._workspaces import Workspaces, team_of
from bot.errors import BotError, SendError
from bot.models import EffectKind, OutboxEffect, PublishPayload, TextPayload
from bot.review import Card, CardPost, CardUpdate

log = logging.getLogger(__name__)


class SlackSender:
    """Implements :class:`bot.ports.EffectSender` with ``chat.*`` calls.

    Every posted message carries ``metadata={"event_type": "jokebot_effect", ...}`` with the
    effect id, so :meth:`reconcile` can find it in ``conversations.history``
    (:class:`adapters.slack_adapter._reconcile.HistoryScan`).
    """

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        history_limit: int = 200,
        reconcile_pages: int = 20,
        clock_skew_s: float = 300.0,
        pool: AsyncWebClient | None = None,
        workspaces: Workspaces | None = None,
    ) -> None:
        self._client = client
        self._scan = HistoryScan(history_limit, reconcile_pages, clock_skew_s)
        self._pool = pool
        self._workspaces = workspaces

    def _borrow_session(self, client: AsyncWebClient) -> AsyncWebClient:
        # Use the running app's connection pool when there is one (see shared_session);
        # otherwise slack_sdk opens a session per call, which needs no closing.
        client.session = self._pool.session if self._pool is not None else None
        return client

    async def _client_for(self, effect: OutboxEffect, token: str = "") -> AsyncWebClient:
        """The client for this effect: in multi-workspace mode, with its workspace's token."""
        if self._workspaces is None:
            return self._borrow_session(self._client)
        token = token or await self._workspaces.token(team_of(effect))
        base = self._client
        return self._borrow_session(
            AsyncWebClient(token=token, base_url=base.base_url, retry_handlers=base.retry_handlers)
        )

    async def send(self, effect: OutboxEffect) -> str:
        try:
            client = await self._client_for(effect)
            try:
                return await self._send(effect, client)
            except SlackApiError as exc:
                if self._workspaces is None or exc.response.get("error") != "token_expired":
                    raise
                # expired before we refreshed it (a refresh that failed, clocks apart): once more
                token = await self._workspaces.replace_expired(team_of(effect), client.token or "")
                return await self._send(effect, await self._client_for(effect, token))
        except BotError:
            raise
        except Exception as exc:  # every SDK / transport failure becomes one of ours
            raise to_send_error(exc) from exc

    async def _send(self, effect: OutboxEffect, client: AsyncWebClient) -> str:
        origin = effect.origin
        if effect.kind is EffectKind.REVIEW_POST:
            post = cast(CardPost, effect.payload)
            card = with_origin(post["card"], effect)
            blocks = card_blocks(card, token=post["token"])
            return await self._post(client, effect.surface.channel, card_text(card), effect, blocks)
        if effect.kind is EffectKind.REVIEW_UPDATE:
            return await self._update_card(effect, client)
        if effect.kind is EffectKind.PUBLISH:
            text, blocks = messages.publish(cast(PublishPayload, effect.payload), origin)
            return await self._post(client, effect.surface.channel, text, effect, blocks)
        if effect.kind is EffectKind.NOTIFY:
            return await self._notify(effect, client)
        if effect.kind is EffectKind.ALERT:
            text, blocks = messages.alert(cast(TextPayload, effect.payload)["text"], origin)
            return await self._post(client, effect.surface.channel, text, effect, blocks)
        raise SendError(f"slack: unknown effect kind {effect.kind!r}", retryable=False)

    async def _post(
        self,
        client: AsyncWebClient,
        channel: str,
        text: str,
        effect: OutboxEffect,
        blocks: list[Any],
    ) -> str:
        resp = await client.chat_postMessage(
            channel=channel,
            text=text,
            blocks=blocks,
            metadata={
                "event_type": METADATA_EVENT,
                "event_payload": {"effect_id": effect.effect_id},
            },
            unfurl_links=False,
            unfurl_media=False,
        )
        return f"{resp.get('channel') or channel}:{resp['ts']}"

    async def _update_card(self, effect: OutboxEffect, client: AsyncWebClient) -> str:
        if not effect.card_ref or ":" not in effect.card_ref:
            raise SendError(
                f"slack: review.update without a card ref ({effect.card_ref!r})", retryable=False
            )
        channel, ts = effect.card_ref.split(":", 1)
        update = cast(CardUpdate, effect.payload)
        text, blocks = decided(
            cast(CardUpdate, {**update, "card": with_origin(update["card"], effect)})
        )
        await client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks)
        return effect.card_ref

    async def _notify(self, effect: OutboxEffect, client: AsyncWebClient) -> str:
        """Tell the requester by DM; an ephemeral in the request's channel only if no DM can be.

        An ephemeral is not guaranteed to be shown and vanishes on reload, so it is the fallback
        for a refused DM (no ``im:write`` on an older install, a deactivated user...), never for
        a busy or failing Slack: those errors propagate and the outbox tries again later.
        """
        origin, raw = effect.origin, cast(TextPayload, effect.payload)["text"]
        user = origin.requester.user_id
        try:
            opened = await client.conversations_open(users=user)
            dm = str((opened.get("channel") or {}).get("id") or user)
            text, blocks = messages.notice(raw, origin, by_dm=True)
            return await self._post(client, dm, text, effect, blocks)
        except SlackApiError as exc:
            refused = to_send_error(exc)
            if not isinstance(refused, SendError) or refused.retryable or not origin.reply_channel:
                raise
            log.info("slack: notice to %s as an ephemeral, the DM failed: %s", user, refused)
        text, blocks = messages.notice(raw, origin, by_dm=False)
        resp = await client.chat_postEphemeral(
            channel=origin.reply_channel, user=user, text=text, blocks=blocks
        )
        return f"ephemeral:{origin.reply_channel}:{resp.get('message_ts', '')}"

    async def exists(self, effect: OutboxEffect) -> bool | None:
        """Whether the card at ``effect.card_ref`` (``channel:ts``) is still in its channel.

        ``conversations.history`` bounded to exactly that ts (``oldest = latest = ts``,
        inclusive, one message): an empty answer means it was deleted. Any error (no access,
        rate limited, Slack down) is "cannot tell".
        """
        channel, _, ts = (effect.card_ref or "").partition(":")
        if not channel or not ts:
            return None
        try:
            client = await self._client_for(effect)
            resp = await client.conversations_history(
                channel=channel, oldest=ts, latest=ts, inclusive=True, limit=1
            )
        except Exception:  # every SDK / transport failure: unknown
            return None
        return any(m.get("ts") == ts for m in resp.get("messages") or [])

    async def reconcile(self, effect: OutboxEffect) -> str | None:
        if effect.kind in (EffectKind.REVIEW_UPDATE, EffectKind.NOTIFY):
            # chat.update is idempotent; a notice (a DM, or an ephemeral that cannot be looked
            # up) told twice is harmless, so "not applied" is the useful answer for both.
            return None
        client = await self._client_for(effect)
        return await self._scan.find(client, effect.surface.channel, effect)


def with_origin(card: Card, effect: OutboxEffect) -> Card:
    """``card``, saying where its requester asked when it does not (cards of older runs).

    The effect's origin is the request's platform: without it a Discord requester named like a
    Slack mention (``<@U…>``) would be rendered as one, and ping that Slack user.
    """
    if card.get("requester_platform"):
        return card
    return cast(Card, {**card, "requester_platform": effect.origin.platform})
