"""The fake guild: fixed ids, users, roles, permissions and the payloads describing them."""

import time
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
APP_ID = 1_200_000_000_000_000_001
BOT_ID = APP_ID
GUILD_ID = 1_200_000_000_000_000_100
MOD_CHANNEL = 1_200_000_000_000_000_201
PUBLIC_CHANNEL = 1_200_000_000_000_000_202
GENERAL_CHANNEL = 1_200_000_000_000_000_203
MOD_ROLE = 1_200_000_000_000_000_301
ALICE = 1_200_000_000_000_000_401  # a member who asks for jokes
MOD = 1_200_000_000_000_000_402  # has the moderator role
MOD2 = 1_200_000_000_000_000_403  # has the moderator role
ADMIN = 1_200_000_000_000_000_404  # Manage Server, not a moderator
RANDO = 1_200_000_000_000_000_405  # nothing special
TOKEN = "fake-bot-token"  # noqa: S105  # the fake accepts any token
NAMES = {ALICE: "Alice", MOD: "Mo", MOD2: "Moe", ADMIN: "Ada", RANDO: "Rando", BOT_ID: "jokebot"}

# Permission bits (developers/topics/permissions).
VIEW, SEND, MANAGE_MESSAGES, READ_HISTORY = 1 << 10, 1 << 11, 1 << 13, 1 << 16
MANAGE_GUILD, USE_COMMANDS = 1 << 5, 1 << 31
MEMBER_PERMS = VIEW | SEND | READ_HISTORY | USE_COMMANDS


def snowflake_at(ms_epoch: float, n: int = 0) -> int:
    """A snowflake for a Unix time in ms, so ``created_at`` / ``expires_at`` are realistic."""
    return ((int(ms_epoch) - DISCORD_EPOCH_MS) << 22) | (n & 0x3FFFFF)


def iso(ms_epoch: float) -> str:
    """An ISO-8601 timestamp as Discord writes them."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms_epoch / 1000)) + "+00:00"


def user(uid: int) -> dict[str, Any]:
    """A user object."""
    return {
        "id": str(uid),
        "username": NAMES.get(uid, f"user{uid % 1000}").lower(),
        "global_name": NAMES.get(uid),
        "avatar": None,
        "discriminator": "0",
        "public_flags": 0,
        "bot": uid == BOT_ID,
    }


def member(uid: int, *, permissions: int | None = None) -> dict[str, Any]:
    """A guild member (with ``flags``; ``permissions`` as interactions carry it)."""
    perms = MEMBER_PERMS | (MANAGE_GUILD if uid == ADMIN else 0)
    return {
        "user": user(uid),
        "roles": [str(MOD_ROLE)] if uid in (MOD, MOD2) else [],
        "nick": None,
        "joined_at": "2024-01-01T00:00:00+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "permissions": str(perms if permissions is None else permissions),
    }


def roles() -> list[dict[str, Any]]:
    """The guild's roles: @everyone and the moderator role."""
    common = {"position": 0, "color": 0, "hoist": False, "managed": False, "mentionable": False}
    return [
        {"id": str(GUILD_ID), "name": "@everyone", "permissions": str(MEMBER_PERMS), **common},
        {"id": str(MOD_ROLE), "name": "Joke mods", "permissions": "0", **common},
    ]


def ready(port: int) -> dict[str, Any]:
    """READY for the bot user, with the guild still unavailable (GUILD_CREATE follows)."""
    return {
        "v": 10,
        "user": user(BOT_ID),
        "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
        "session_id": "fake-session",
        "resume_gateway_url": f"ws://127.0.0.1:{port}/gateway",
        "shard": [0, 1],
        "application": {"id": str(APP_ID), "flags": 0},
    }


def guild_create() -> dict[str, Any]:
    """GUILD_CREATE: roles, three text channels and the members (each with ``flags``)."""
    names = [(MOD_CHANNEL, "joke-review"), (PUBLIC_CHANNEL, "jokes"), (GENERAL_CHANNEL, "general")]
    channels = [
        {"id": str(cid), "type": 0, "name": name, "position": i, "permission_overwrites": []}
        for i, (cid, name) in enumerate(names)
    ]
    members = [member(uid) for uid in (ALICE, MOD, MOD2, ADMIN, RANDO, BOT_ID)]
    return {
        "id": str(GUILD_ID),
        "name": "Fake Guild",
        "owner_id": str(ADMIN),
        "unavailable": False,
        "member_count": len(members),
        "large": False,
        "roles": [{**r, "flags": 0} for r in roles()],
        "channels": channels,
        "members": members,
        "threads": [],
        "emojis": [],
        "stickers": [],
        "features": [],
        "voice_states": [],
        "presences": [],
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "joined_at": iso(time.time() * 1000),
    }


def app_info() -> dict[str, Any]:
    """GET /oauth2/applications/@me (no interactions endpoint URL: the gateway gets them)."""
    return {
        "id": str(APP_ID),
        "name": "jokebot",
        "description": "",
        "icon": None,
        "bot_public": True,
        "bot_require_code_grant": False,
        "owner": user(ADMIN),
        "verify_key": "0" * 64,
        "flags": 0,
        "interactions_endpoint_url": None,
    }
