"""How the Discord client is set up: its defaults, the endpoints, the invite URL it needs."""

from typing import Any

import discord
import yarl

PLATFORM = "discord"
# The longest rate-limit wait discord.py may sleep inside a call (30 s is its minimum). A
# longer one raises discord.RateLimited instead, which the sender reports as a retryable
# SendError with retry_after, so the outbox waits outside the call and nothing times out.
MAX_RATELIMIT_WAIT_S = 30.0


def client_options(**overrides: Any) -> dict[str, Any]:
    """``discord.Client`` options: default intents, no pings, long rate limits raised."""
    options: dict[str, Any] = {
        "intents": discord.Intents.default(),
        "allowed_mentions": discord.AllowedMentions.none(),
        "max_ratelimit_timeout": MAX_RATELIMIT_WAIT_S,
    }
    return {**options, **overrides}


def use_endpoints(api_base: str | None, gateway_url: str | None) -> None:
    """Point discord.py at another REST base / gateway (local fakes; test settings only)."""
    if api_base:
        discord.http.Route.BASE = api_base
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


def required_permissions() -> discord.Permissions:
    """What the invite grants the bot's role: integer 274877991936.

    View Channel, Send Messages, Embed Links (cards and keys are embeds) and Read Message
    History in the moderator and public channels; Send Messages in Threads for the notice
    that goes where ``/joke`` was typed (possibly a thread) when the requester's DMs are
    closed.
    """
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        read_message_history=True,
        embed_links=True,
    )


def invite_url(application_id: int | str) -> str:
    """The OAuth2 URL that adds the bot with scopes bot + applications.commands."""
    return discord.utils.oauth_url(
        str(application_id),
        permissions=required_permissions(),
        scopes=("bot", "applications.commands"),
    )
