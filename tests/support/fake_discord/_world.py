"""The fake guild: fixed ids, users, roles, permissions and the payloads describing them."""

import time
from typing import Any

from tests.support.fake_discord._perms import (
    EMBED,
    MANAGE_GUILD,
    READ_HISTORY,
    SEND,
    SEND_IN_THREADS,
    USE_COMMANDS,
    VIEW,
    GuildPermissions,
)

DISCORD_EPOCH_MS = 1_420_070_400_000
APP_ID = 1_200_000_000_000_000_001
BOT_ID = APP_ID
GUILD_ID = 1_200_000_000_000_000_100
MOD_CHANNEL = 1_200_000_000_000_000_201
PUBLIC_CHANNEL = 1_200_000_000_000_000_202
GENERAL_CHANNEL = 1_200_000_000_000_000_203
GENERAL_THREAD = 1_200_000_000_000_000_204  # a public thread under #general
MOD_ROLE = 1_200_000_000_000_000_301
BOT_ROLE = 1_200_000_000_000_000_302  # the managed role the invite gives the bot
ALICE = 1_200_000_000_000_000_401  # a member who asks for jokes
MOD = 1_200_000_000_000_000_402  # has the moderator role
MOD2 = 1_200_000_000_000_000_403  # has the moderator role
ADMIN = 1_200_000_000_000_000_404  # Manage Server, not a moderator
RANDO = 1_200_000_000_000_000_405  # nothing special
TOKEN = "fake-bot-token"  # noqa: S105  # the fake accepts any token
NAMES = {ALICE: "Alice", MOD: "Mo", MOD2: "Moe", ADMIN: "Ada", RANDO: "Rando", BOT_ID: "jokebot"}

MEMBER_PERMS = VIEW | SEND | READ_HISTORY | USE_COMMANDS  # @everyone's
# What the bot's role grants by default: the invite's permissions (docs/discord-setup.md).
BOT_PERMS = VIEW | SEND | EMBED | READ_HISTORY | SEND_IN_THREADS
GUILD_CHANNELS = {MOD_CHANNEL: "joke-review", PUBLIC_CHANNEL: "jokes", GENERAL_CHANNEL: "general"}


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


def member_roles(uid: int) -> list[int]:
    """The role ids a member holds."""
    if uid == BOT_ID:
        return [BOT_ROLE]
    return [MOD_ROLE] if uid in (MOD, MOD2) else []


def member(uid: int, *, permissions: int | None = None) -> dict[str, Any]:
    """A guild member (with ``flags``; ``permissions`` as interactions carry it)."""
    perms = MEMBER_PERMS | (MANAGE_GUILD if uid == ADMIN else 0)
    return {
        "user": user(uid),
        "roles": [str(r) for r in member_roles(uid)],
        "nick": None,
        "joined_at": "2024-01-01T00:00:00+00:00",
        "premium_since": None,
        "deaf": False,
        "mute": False,
        "pending": False,
        "flags": 0,
        "permissions": str(perms if permissions is None else permissions),
    }


def guild_permissions(bot_permissions: int = BOT_PERMS) -> GuildPermissions:
    """The fake guild's permission world: @everyone, the moderator role and the bot's role."""
    members = (ALICE, MOD, MOD2, ADMIN, RANDO, BOT_ID)
    return GuildPermissions(
        guild_id=GUILD_ID,
        owner_id=ADMIN,
        roles={GUILD_ID: MEMBER_PERMS, MOD_ROLE: 0, BOT_ROLE: bot_permissions},
        member_roles={uid: member_roles(uid) for uid in members},
        parents={GENERAL_THREAD: GENERAL_CHANNEL},
    )


def roles(perms: GuildPermissions | None = None) -> list[dict[str, Any]]:
    """The guild's roles: @everyone, the moderator role and the bot's managed role."""
    perms = perms or guild_permissions()
    common = {"position": 0, "color": 0, "hoist": False, "mentionable": False}
    named = [(GUILD_ID, "@everyone"), (MOD_ROLE, "Joke mods"), (BOT_ROLE, "jokebot")]
    return [
        {
            "id": str(rid),
            "name": name,
            "permissions": str(perms.roles[rid]),
            "managed": rid == BOT_ROLE,
            **common,
        }
        for rid, name in named
    ]


SESSION_ID = "fake-session"  # a READY's session id starts with it; a RESUME must name one


def shard_of(guild_id: int, count: int) -> int:
    """The shard a guild's events go to: ``(guild_id >> 22) % num_shards`` (Discord's docs)."""
    return (guild_id >> 22) % count


def guild_on_shard(shard_id: int, count: int, n: int = 0) -> int:
    """A guild id (other than the fake guild) whose events go to ``shard_id`` of ``count``."""
    base = (GUILD_ID >> 22) + 1_000 + n * count
    return ((base - base % count + shard_id) << 22) | 7


def ready(
    port: int,
    *,
    shard: tuple[int, int] = (0, 1),
    guilds: list[int] | None = None,
    session_id: str = SESSION_ID,
) -> dict[str, Any]:
    """READY for the bot user, with its guilds still unavailable (GUILD_CREATE follows)."""
    return {
        "v": 10,
        "user": user(BOT_ID),
        "guilds": [{"id": str(g), "unavailable": True} for g in guilds or [GUILD_ID]],
        "session_id": session_id,
        "resume_gateway_url": f"ws://127.0.0.1:{port}/gateway",
        "shard": list(shard),
        "application": {"id": str(APP_ID), "flags": 0},
    }


def small_guild(guild_id: int) -> dict[str, Any]:
    """GUILD_CREATE of another, empty guild: @everyone, the bot as its only member."""
    everyone = {"id": str(guild_id), "name": "@everyone", "permissions": str(MEMBER_PERMS)}
    bot = {**member(BOT_ID), "roles": []}
    return {
        "id": str(guild_id),
        "name": f"Guild {guild_id % 10_000}",
        "owner_id": str(ADMIN),
        "unavailable": False,
        "member_count": 1,
        "large": False,
        "roles": [
            {
                **everyone,
                "position": 0,
                "color": 0,
                "hoist": False,
                "managed": False,
                "mentionable": False,
                "flags": 0,
            }
        ],
        "channels": [],
        "members": [bot],
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


def channel(cid: int, perms: GuildPermissions, position: int = 0) -> dict[str, Any]:
    """A guild text channel object with its permission overwrites."""
    return {
        "id": str(cid),
        "type": 0,
        "name": GUILD_CHANNELS[cid],
        "position": position,
        "guild_id": str(GUILD_ID),
        "permission_overwrites": perms.overwrites_json(cid),
    }


def thread() -> dict[str, Any]:
    """The public thread under #general (type 11)."""
    meta = {"archived": False, "auto_archive_duration": 1440, "locked": False}
    return {
        "id": str(GENERAL_THREAD),
        "type": 11,
        "name": "cat jokes",
        "guild_id": str(GUILD_ID),
        "parent_id": str(GENERAL_CHANNEL),
        "owner_id": str(ALICE),
        "thread_metadata": {**meta, "archive_timestamp": iso(time.time() * 1000)},
        "message_count": 0,
        "member_count": 1,
    }


def guild_create(perms: GuildPermissions | None = None) -> dict[str, Any]:
    """GUILD_CREATE: roles, three text channels, a thread and the members (with ``flags``)."""
    perms = perms or guild_permissions()
    channels = [channel(cid, perms, i) for i, cid in enumerate(GUILD_CHANNELS)]
    members = [member(uid) for uid in perms.member_roles]
    return {
        "id": str(GUILD_ID),
        "name": "Fake Guild",
        "owner_id": str(ADMIN),
        "unavailable": False,
        "member_count": len(members),
        "large": False,
        "roles": [{**r, "flags": 0} for r in roles(perms)],
        "channels": channels,
        "members": members,
        "threads": [thread()],
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
