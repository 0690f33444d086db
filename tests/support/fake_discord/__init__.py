"""A local fake Discord for the real discord.py client (discord.md §3).

- ``_world``: the fake guild (ids, users, roles) and its gateway/REST payloads;
- ``_state``: messages, interactions (3 s deadline, one ack), nonce dedupe, DMs;
- ``_server``: :class:`FakeDiscord` (aiohttp REST + gateway, call log, fault injection) and
  :func:`serve_fake`;
- ``_payloads``: docs-shaped interaction builders plus the required-key overlay;
- ``_harness``: :func:`discord_session` / :func:`connected` / :func:`running` (clients
  against the fake) and :class:`StubSink`.
"""

from tests.support.fake_discord._harness import (
    CONFIGURED,
    Session,
    StubSink,
    connected,
    discord_session,
    running,
)
from tests.support.fake_discord._payloads import (
    REQUIRED_OVERLAY_KEYS,
    button_ids,
    click,
    docs_shaped_slash,
    jokeconfig,
    modal_submit,
    overlay,
    slash,
)
from tests.support.fake_discord._server import Call, FakeDiscord, Fault, serve_fake
from tests.support.fake_discord._state import DiscordState, PendingInteraction
from tests.support.fake_discord._world import (
    ADMIN,
    ALICE,
    APP_ID,
    BOT_ID,
    GENERAL_CHANNEL,
    GUILD_ID,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    MEMBER_PERMS,
    MOD,
    MOD2,
    MOD_CHANNEL,
    MOD_ROLE,
    PUBLIC_CHANNEL,
    RANDO,
    TOKEN,
    snowflake_at,
)

__all__ = [
    "ADMIN",
    "ALICE",
    "APP_ID",
    "BOT_ID",
    "CONFIGURED",
    "GENERAL_CHANNEL",
    "GUILD_ID",
    "MANAGE_GUILD",
    "MANAGE_MESSAGES",
    "MEMBER_PERMS",
    "MOD",
    "MOD2",
    "MOD_CHANNEL",
    "MOD_ROLE",
    "PUBLIC_CHANNEL",
    "RANDO",
    "REQUIRED_OVERLAY_KEYS",
    "TOKEN",
    "Call",
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
    "jokeconfig",
    "modal_submit",
    "overlay",
    "running",
    "serve_fake",
    "slash",
    "snowflake_at",
]
