"""A local fake Discord for the real discord.py client (discord.md §3).

- ``_world``: the fake guild (ids, users, roles, a thread) and its gateway/REST payloads;
- ``_perms``: channel permissions computed as Discord does (roles, overwrites, threads);
- ``_rules``: Discord's limits on messages, embeds, components, modals and callback types;
- ``_state``: channels, messages, permission checks, nonce dedupe, DMs, the fake's clock;
- ``_interactions``: interactions (3 s from creation, one ack, 15-minute tokens);
- ``_gateway``: HELLO / IDENTIFY (privileged intents and shard checked) / READY /
  GUILD_CREATE / RESUME, events routed to their guild's shard, every connection logged;
- ``_faults``: injected errors, lost responses and Discord's kinds of 429;
- ``_server``: :class:`FakeDiscord` (aiohttp REST + gateway, call log, fault injection) and
  :func:`serve_fake`;
- ``_payloads``: docs-shaped interaction builders plus the required-key overlay;
- ``_harness``: :func:`discord_session` / :func:`connected` / :func:`running` (clients
  against the fake) and :class:`StubSink`.
"""

from tests.support.fake_discord._calls import Call
from tests.support.fake_discord._faults import Fault
from tests.support.fake_discord._gateway import INVALID_SHARD, SESSION_TIMED_OUT, Connection
from tests.support.fake_discord._harness import (
    CONFIGURED,
    Session,
    StubSink,
    connected,
    discord_session,
    running,
)
from tests.support.fake_discord._interactions import PendingInteraction
from tests.support.fake_discord._payloads import (
    REQUIRED_OVERLAY_KEYS,
    button_ids,
    click,
    docs_shaped_slash,
    in_guild,
    jokeconfig,
    modal_submit,
    overlay,
    slash,
)
from tests.support.fake_discord._perms import (
    EMBED,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    READ_HISTORY,
    SEND,
    SEND_IN_THREADS,
    VIEW,
)
from tests.support.fake_discord._server import FakeDiscord, serve_fake
from tests.support.fake_discord._state import DiscordState
from tests.support.fake_discord._world import (
    ADMIN,
    ALICE,
    APP_ID,
    BOT_ID,
    BOT_PERMS,
    BOT_ROLE,
    GENERAL_CHANNEL,
    GENERAL_THREAD,
    GUILD_ID,
    MEMBER_PERMS,
    MOD,
    MOD2,
    MOD_CHANNEL,
    MOD_ROLE,
    PUBLIC_CHANNEL,
    RANDO,
    TOKEN,
    guild_on_shard,
    shard_of,
    snowflake_at,
)

__all__ = [
    "ADMIN",
    "ALICE",
    "APP_ID",
    "BOT_ID",
    "BOT_PERMS",
    "BOT_ROLE",
    "CONFIGURED",
    "EMBED",
    "GENERAL_CHANNEL",
    "GENERAL_THREAD",
    "GUILD_ID",
    "INVALID_SHARD",
    "MANAGE_GUILD",
    "MANAGE_MESSAGES",
    "MEMBER_PERMS",
    "MOD",
    "MOD2",
    "MOD_CHANNEL",
    "MOD_ROLE",
    "PUBLIC_CHANNEL",
    "RANDO",
    "READ_HISTORY",
    "REQUIRED_OVERLAY_KEYS",
    "SEND",
    "SEND_IN_THREADS",
    "SESSION_TIMED_OUT",
    "TOKEN",
    "VIEW",
    "Call",
    "Connection",
    "DiscordState",
    "FakeDiscord",
    "Fault",
    "PendingInteraction",
    "Session",
    "StubSink",
    "button_ids",
    "click",
    "connected",
    "discord_session",
    "docs_shaped_slash",
    "guild_on_shard",
    "in_guild",
    "jokeconfig",
    "modal_submit",
    "overlay",
    "running",
    "serve_fake",
    "shard_of",
    "slash",
    "snowflake_at",
]
