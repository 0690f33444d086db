"""DiscordSender: the outbox's Discord side (post cards and jokes, edit cards, reconcile).

Posts carry ``nonce=effect.dedupe_key`` (discord.py then sends ``enforce_nonce``), so a resend
inside Discord's dedupe window returns the first message. Outside it, ``reconcile`` scans the
channel for the same key in the embed footer (see ``_render``).
"""

import asyncio
import logging
from collections.abc import Awaitable
from typing import Any, TypeVar, cast

import discord

from adapters.discord_adapter._buttons import card_view
from adapters.discord_adapter._config import MAX_RATELIMIT_WAIT_S, PLATFORM
from adapters.discord_adapter._errors import TRANSPORT_ERRORS, to_send_error
from adapters.discord_adapter._permissions import can_read_history
from adapters.discord_adapter._render import (
    card_embed,
    decided_embed,
    footer_key,
    joke_embed,
    notice_embed,
)
from bot.errors import CannotReconcile, SendError
from bot.models import EffectKind, OutboxEffect, PublishPayload, TextPayload
from bot.review import CardPost, CardUpdate

log = logging.getLogger(__name__)
T = TypeVar("T")
UNKNOWN_MESSAGE = 10008  # Discord's JSON error code for a deleted (or never-seen) message


def run_snowflake(run_id: str) -> int | None:
    """The interaction snowflake in ``discord:<id>`` run ids (effects are never older)."""
    prefix, _, rest = run_id.partition(":")
    if prefix != PLATFORM or not rest.isdigit():
        return None
    return int(rest)


class DiscordSender:
    """Implements :class:`bot.ports.EffectSender` for Discord over a logged-in client."""

    def __init__(
        self,
        client: discord.Client,
        *,
        timeout_s: float = MAX_RATELIMIT_WAIT_S + 15.0,
        history_limit: int = 100,  # Discord's largest page
        scan_max: int = 1000,
        not_ready_retry_s: float = 1.0,
    ) -> None:
        self._client = client
        # Longer than one permitted rate-limit wait plus the request, so a wait is never
        # mistaken for a lost answer (OutcomeUnknown and a needless reconcile).
        self.timeout_s = timeout_s
        self._history_limit = history_limit
        self._scan_max = scan_max
        self._not_ready_retry_s = not_ready_retry_s  # the gateway is usually up within 1 s

    async def _call(self, aw: Awaitable[T], *, creates: bool) -> T:
        """Await a Discord call, mapping failures to SendError / OutcomeUnknown."""
        try:
            return await asyncio.wait_for(aw, self.timeout_s)
        except TRANSPORT_ERRORS as exc:
            raise to_send_error(exc, creates=creates) from exc

    def _ready(self) -> int:
        """The bot's user id, once the client is connected and its guild cache filled.

        Before that (at boot the outbox starts before the gateway session) a reconcile has no
        cached permissions, so an empty history page could not be trusted: refuse, briefly.
        """
        user = self._client.user
        if user is None or self._client.is_closed() or not self._client.is_ready():
            raise SendError(
                "the Discord client is not connected yet",
                retryable=True,
                retry_after=self._not_ready_retry_s,
            )
        return user.id

    def _channel(self, channel_id: str) -> discord.PartialMessageable:
        if not channel_id.isdigit():
            raise SendError(f"not a Discord channel id: {channel_id!r}", retryable=False)
        return self._client.get_partial_messageable(int(channel_id))

    async def _post(self, channel_id: str, effect: OutboxEffect, **kwargs: Any) -> str:
        channel = self._channel(channel_id)
        message = await self._call(channel.send(nonce=effect.dedupe_key, **kwargs), creates=True)
        return str(message.id)

    async def send(self, effect: OutboxEffect) -> str:
        self._ready()
        origin, key = effect.origin, effect.dedupe_key
        if effect.kind is EffectKind.REVIEW_POST:
            post = cast(CardPost, effect.payload)
            embed = card_embed(post["card"], key=key)
            view = card_view(post["token"])
            return await self._post(effect.surface.channel, effect, embed=embed, view=view)
        if effect.kind is EffectKind.REVIEW_UPDATE:
            return await self._update_card(effect)
        if effect.kind is EffectKind.PUBLISH:
            joke = cast(PublishPayload, effect.payload)
            requester = joke.get("requester") or origin.requester.display
            embed = joke_embed(joke["text"], requester, key=key)
            return await self._post(effect.surface.channel, effect, embed=embed)
        if effect.kind is EffectKind.NOTIFY:
            return await self._notify(effect)
        if effect.kind is EffectKind.ALERT:
            alert = cast(TextPayload, effect.payload)
            embed = notice_embed(alert["text"], key=key, title="⚠️ jokebot")
            return await self._post(effect.surface.channel, effect, embed=embed)
        raise SendError(f"unknown effect kind {effect.kind!r}", retryable=False)

    async def _update_card(self, effect: OutboxEffect) -> str:
        if not effect.card_ref or not effect.card_ref.isdigit():
            raise SendError(
                f"REVIEW_UPDATE without a card ref ({effect.card_ref!r})", retryable=False
            )
        line, embed = decided_embed(cast(CardUpdate, effect.payload))
        message = self._channel(effect.surface.channel).get_partial_message(int(effect.card_ref))
        # Edits are idempotent, so no OutcomeUnknown: just retry.
        await self._call(message.edit(content=line, embed=embed, view=None), creates=False)
        return effect.card_ref

    async def _notify(self, effect: OutboxEffect) -> str:
        """A DM to the requester; if DMs are closed, a message in the channel they asked in."""
        requester = effect.origin.requester
        notice = cast(TextPayload, effect.payload)
        embed = notice_embed(notice["text"], key=effect.dedupe_key)
        try:
            dm = await self._call(self._dm(requester.user_id), creates=False)
            message = await self._call(dm.send(embed=embed, nonce=effect.dedupe_key), creates=True)
            return str(message.id)
        except SendError as exc:
            if exc.retryable or not effect.origin.reply_channel:
                raise
            log.info("%s: DM to %s refused (%s); using the channel", PLATFORM, requester.ref, exc)
        who = discord.Object(int(requester.user_id))
        # The one ping we allow: the requester, for their own notice; parse stays [].
        return await self._post(
            effect.origin.reply_channel,
            effect,
            content=f"<@{requester.user_id}>",
            embed=embed,
            allowed_mentions=discord.AllowedMentions(users=[who]),
        )

    async def _dm(self, user_id: str) -> discord.DMChannel:
        if not user_id.isdigit():
            raise SendError(f"not a Discord user id: {user_id!r}", retryable=False)
        return await self._client.create_dm(discord.Object(int(user_id)))

    async def reconcile(self, effect: OutboxEffect) -> str | None:
        self._ready()
        try:
            return await self._reconcile(effect)
        except SendError as exc:
            if exc.retryable:
                raise
            raise CannotReconcile(f"cannot look up {effect.effect_id}: {exc}") from exc

    async def _reconcile(self, effect: OutboxEffect) -> str | None:
        origin = effect.origin
        if effect.kind is EffectKind.REVIEW_UPDATE:
            return await self._card_updated(effect)
        if effect.kind is EffectKind.NOTIFY:
            dm = await self._call(self._dm(origin.requester.user_id), creates=False)
            found = await self._find(dm, effect)
            if found is None and origin.reply_channel:
                found = await self._find(self._channel(origin.reply_channel), effect)
            return found
        return await self._find(self._channel(effect.surface.channel), effect)

    async def exists(self, effect: OutboxEffect) -> bool | None:
        """Whether the card at ``effect.card_ref`` is still there: 10008 Unknown Message is no.

        A REST fetch, so it works before the gateway is ready; anything else (no access, an
        outage, no answer) is "cannot tell".
        """
        ref = effect.card_ref
        if not ref or not ref.isdigit() or getattr(self._client.http, "token", None) is None:
            return None  # no ref, or not logged in yet (boot): the next card check asks again
        try:
            channel = self._channel(effect.surface.channel)
            await asyncio.wait_for(channel.fetch_message(int(ref)), self.timeout_s)
        except discord.NotFound as exc:
            return False if exc.code == UNKNOWN_MESSAGE else None
        except (*TRANSPORT_ERRORS, SendError):
            return None
        return True

    async def _card_updated(self, effect: OutboxEffect) -> str | None:
        """The card ref if it already shows this outcome; None means "edit again" (idempotent)."""
        if not effect.card_ref or not effect.card_ref.isdigit():
            return None
        channel = self._channel(effect.surface.channel)
        try:
            message = await self._call(channel.fetch_message(int(effect.card_ref)), creates=False)
        except SendError as exc:
            if exc.retryable:
                raise
            return None  # card gone or unreadable: the edit will report the real error
        line, _ = decided_embed(cast(CardUpdate, effect.payload))
        done = message.content == line and not message.components
        return effect.card_ref if done else None

    async def _find(self, channel: discord.abc.Messageable, effect: OutboxEffect) -> str | None:
        """Our message carrying this effect's nonce or footer key, scanning back to the run's start.

        Raises CannotReconcile when the scan budget ends before the run's start (or, for run
        ids without a time, when the first page is full), and when the channel looks empty but
        the bot may lack Read Message History there: absence is then unproven.
        """
        me, key = self._ready(), effect.dedupe_key
        since = run_snowflake(effect.run_id)
        before: discord.Message | None = None
        scanned = 0
        while scanned < self._scan_max:
            page = await self._call(self._page(channel, before), creates=False)
            for message in page:
                if message.author.id == me and key in (str(message.nonce), footer_key(message)):
                    return str(message.id)
            if not page and before is None:
                self._require_history(channel, effect)
            scanned += len(page)
            if len(page) < self._history_limit:
                return None  # reached the start of the channel
            if since is not None and page[-1].id < since:
                return None  # older than the run: the effect cannot be further back
            if since is None:
                break
            before = page[-1]
        raise CannotReconcile(f"{effect.effect_id} not in the last {scanned} messages")

    def _require_history(self, channel: discord.abc.Messageable, effect: OutboxEffect) -> None:
        """An empty first page: Discord gives one to bots without Read Message History too."""
        readable = can_read_history(self._client, channel)
        if readable is not True:
            why = "unknown (guild not cached)" if readable is None else "missing"
            raise CannotReconcile(
                f"{effect.effect_id}: channel looks empty, but Read Message History is {why} "
                f"there, so absence cannot be proven"
            )

    async def _page(
        self, channel: discord.abc.Messageable, before: discord.Message | None
    ) -> list[discord.Message]:
        return [m async for m in channel.history(limit=self._history_limit, before=before)]
