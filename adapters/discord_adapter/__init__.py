"""Discord adapter: ``/joke``, ``/jokeconfig``, review cards with restart-proof buttons.

Entry points for the wiring (``bot/app/``):

- ``build_discord(sink, **client_options) -> (client, sender)``: the client to run and the
  :class:`bot.ports.EffectSender` to register with ``core.register_sender("discord", sender)``;
  with ``shard_ids=…, shard_count=N, fence=…`` the client is a ``ShardedJokeClient``.
- ``run_discord(token, sink, client=...)``: log in and serve until cancelled.
- ``sync_only(token, guild_id)``: ``jokebot discord --sync [--guild ID]``.
- ``DiscordCheck(token, scopes)``: ``jokebot doctor``'s Discord check (and ``--fix``).
- ``invite_url(application_id)``, ``sync_commands(client, guild_id)``, ``use_endpoints(...)``.

The private modules have the same names and jobs as in ``adapters/slack_adapter/``:
``_inbound`` (payloads in), ``_listeners`` (what a click or submit does), ``_render``
(embeds, modals), ``_buttons`` (DynamicItems), ``_sender``, ``_moderators``, ``_errors``,
``_config`` and ``_client``; plus ``_commands`` (the slash-command tree), ``_permissions``
(what the bot may do in a channel, from the guild cache) and ``_text`` (untrusted text made
inert: escaped, cleaned, clipped). What both platforms share is in ``adapters/_review.py``.
"""

from adapters.discord_adapter._client import (
    JokeClient,
    ShardedJokeClient,
    SyncReport,
    build_discord,
    run_discord,
    sync_only,
)
from adapters.discord_adapter._commands import sync_commands
from adapters.discord_adapter._config import invite_url, use_endpoints
from adapters.discord_adapter._doctor import DiscordCheck
from adapters.discord_adapter._moderators import is_moderator
from adapters.discord_adapter._sender import DiscordSender

__all__ = [
    "DiscordCheck",
    "DiscordSender",
    "JokeClient",
    "ShardedJokeClient",
    "SyncReport",
    "build_discord",
    "invite_url",
    "is_moderator",
    "run_discord",
    "sync_commands",
    "sync_only",
    "use_endpoints",
]
