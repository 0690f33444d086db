"""``jokebot doctor`` for Slack: the tokens, the scopes the token really has, the channels.

The scopes come from Slack's own answer (the ``x-oauth-scopes`` header of ``auth.test``),
checked against :data:`NEEDED`, the scopes of the Web API methods this adapter calls. The
channels and the moderator group are checked by the start-up :func:`._checks.preflight`.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter._checks import preflight
from adapters.slack_adapter._config import DEFAULT_API_BASE, PLATFORM, SlackConfig
from bot.errors import ConfigError
from bot.models import Finding, Level

# Each bot scope the code needs and what calls it (the method pages' "Required scopes").
NEEDED: Mapping[str, str] = {
    "commands": "the /joke slash command",
    "chat:write": "chat.postMessage, chat.update, chat.postEphemeral: cards, posts, notices",
    "im:write": "conversations.open: the requester's DM",
    "channels:read": "conversations.info on a public channel: the start-up check",
    "groups:read": "conversations.info on a private channel",
    "channels:history": "conversations.history on a public channel: never posting twice",
    "groups:history": "conversations.history on a private channel",
    "usergroups:read": "usergroups.users.list: SLACK_MODERATOR_GROUP's members",
    "users:read": "users.info: the web console's decision-time check of a moderator",
}
# Needed only with a feature: usergroups:read with SLACK_MODERATOR_GROUP; users:read with the
# web console's Slack sign-in, which this adapter's config does not know (not checked here).
OPTIONAL = ("usergroups:read", "users:read")
TOKEN_FIX = "copy the Bot User OAuth Token (xoxb-…) from the app's OAuth & Permissions page"  # noqa: S105
APP_TOKEN_FIX = "make an app-level token with connections:write (Basic Information)"  # noqa: S105


def scope_fix(scope: str) -> str:
    """How to grant ``scope``: the manifest line, then a reinstall."""
    return (
        f"add `- {scope}` under oauth_config.scopes.bot in manifest.yml (the app's App "
        "Manifest page), save, then reinstall the app (OAuth & Permissions → Reinstall)"
    )


@dataclass
class SlackCheck:
    """Checks the bot (and app) token, the granted scopes and both channels."""

    config: SlackConfig
    area: str = PLATFORM

    def _client(self, token: str) -> AsyncWebClient:
        return AsyncWebClient(token=token, base_url=self.config.api_base or DEFAULT_API_BASE)

    async def check(self) -> list[Finding]:
        client = self._client(self.config.bot_token)
        try:
            auth = await client.auth_test()
        except SlackApiError as exc:
            msg = f"SLACK_BOT_TOKEN was refused ({exc.response.get('error', '')})"
            return [Finding(Level.ERROR, self.area, msg, TOKEN_FIX)]
        team = f"{auth.get('team') or '?'} ({auth.get('team_id') or '?'})"
        found = [Finding(Level.OK, self.area, f"bot token ok: @{auth.get('user')} in {team}")]
        found += self._scopes(auth.headers.get("x-oauth-scopes"))
        found += await self._app_token()
        try:
            warnings = await preflight(client, self.config)
        except ConfigError as exc:
            problems = str(exc).removeprefix("Slack: ").split("; ")
            return found + [Finding(Level.ERROR, self.area, p) for p in problems]
        found += [Finding(Level.WARN, self.area, w) for w in warnings]
        if not warnings:
            found.append(Finding(Level.OK, self.area, "the bot is in both channels"))
        return found

    def _scopes(self, header: str | None) -> list[Finding]:
        if header is None:
            msg = "Slack did not report the token's scopes (no x-oauth-scopes header)"
            return [Finding(Level.WARN, self.area, msg)]
        granted = {s.strip() for s in header.split(",") if s.strip()}
        wanted = {"usergroups:read": bool(self.config.moderator_group), "users:read": False}
        needed = [s for s in NEEDED if s not in OPTIONAL or wanted[s]]
        lacking = [s for s in needed if s not in granted]
        if not lacking:
            return [Finding(Level.OK, self.area, f"scopes ok ({len(needed)} needed, granted)")]
        return [
            Finding(Level.ERROR, self.area, f"the token lacks {s} ({NEEDED[s]})", scope_fix(s))
            for s in lacking
        ]

    async def _app_token(self) -> list[Finding]:
        if not self.config.app_token:
            return []
        try:
            await self._client("").apps_connections_open(app_token=self.config.app_token)
        except SlackApiError as exc:
            msg = f"SLACK_APP_TOKEN was refused ({exc.response.get('error', '')})"
            return [Finding(Level.ERROR, self.area, msg, APP_TOKEN_FIX)]
        return [Finding(Level.OK, self.area, "app token ok (Socket Mode)")]

    async def fix(self) -> list[Finding]:
        return []  # scopes and channels are changed by a person in Slack
