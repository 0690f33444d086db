"""SignInConfig: the plain values console sign-in is built from (the CLI fills it from Settings)."""

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from adapters.console._identity import Role

DISCORD = "discord"
SLACK = "slack"
DISCORD_API_BASE = "https://discord.com/api/v10"
SLACK_ISSUER = "https://slack.com"
SLACK_API_BASE = "https://slack.com/api/"


@dataclass(frozen=True)
class DiscordSignIn:
    """Sign in with Discord (OAuth2 authorization code, scopes ``identify guilds.members.read``).

    Attributes:
        client_id: the application's OAuth2 client id.
        client_secret: its client secret.
        guild_id: the server the bot serves; members of any other server are refused.
        api_base: the REST base (``…/api/v10``); the authorize page is on the same origin.
        bot_token: the bot's token, to ask for a member's roles at decision time and for the
            server's role permissions (Manage Messages, Manage Server); empty: only the
            allow-lists count at decision time.
    """

    client_id: str
    client_secret: str = field(repr=False)
    guild_id: str
    api_base: str = DISCORD_API_BASE
    bot_token: str = field(default="", repr=False)

    @property
    def authorize_url(self) -> str:
        """``https://discord.com/oauth2/authorize`` for the default base."""
        parts = urlsplit(self.api_base)
        return f"{parts.scheme}://{parts.netloc}/oauth2/authorize"

    @property
    def token_url(self) -> str:
        """The token endpoint under the API base."""
        return f"{self.api_base.rstrip('/')}/oauth2/token"

    def api(self, path: str) -> str:
        """An endpoint under the API base (``path`` without a leading slash)."""
        return f"{self.api_base.rstrip('/')}/{path}"


@dataclass(frozen=True)
class SlackSignIn:
    """Sign in with Slack (OpenID Connect, scopes ``openid profile email``).

    Attributes:
        client_id: the Slack app's client id.
        client_secret: its client secret.
        team_id: the workspace (``T…``) the bot serves; ID tokens of any other are refused.
        issuer: the ID tokens' ``iss``; the authorize page and the keys live under it.
        api_base: the Web API base ending in ``/api/`` (token, userInfo, users.info).
        bot_token: the bot token, for ``users.info`` and the moderator group at decision time.
        moderators: user ids that may decide (``SLACK_MODERATORS``).
        moderator_group: a user group whose members may decide (``SLACK_MODERATOR_GROUP``).
    """

    client_id: str
    client_secret: str = field(repr=False)
    team_id: str
    issuer: str = SLACK_ISSUER
    api_base: str = SLACK_API_BASE
    bot_token: str = field(default="", repr=False)
    moderators: tuple[str, ...] = ()
    moderator_group: str = ""

    @property
    def authorize_url(self) -> str:
        """``https://slack.com/openid/connect/authorize`` for the default issuer."""
        return f"{self.issuer.rstrip('/')}/openid/connect/authorize"

    @property
    def jwks_url(self) -> str:
        """Where the ID tokens' signing keys are published."""
        return f"{self.issuer.rstrip('/')}/openid/connect/keys"

    def api(self, method: str) -> str:
        """A Web API method's URL (``openid.connect.token``, ``users.info``…)."""
        return f"{self.api_base.rstrip('/')}/{method}"


@dataclass(frozen=True)
class AllowLists:
    """Roles granted by configuration, as ``platform:user id`` entries."""

    admins: frozenset[str] = frozenset()
    moderators: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, admins: str = "", moderators: str = "") -> "AllowLists":
        """From comma-separated ``discord:123,slack:U456`` lists; ValueError on a bad entry."""
        return cls(_entries(admins), _entries(moderators))

    def role(self, platform: str, user_id: str) -> Role | None:
        """The role configuration gives this user, or None."""
        key = f"{platform}:{user_id}"
        if key in self.admins:
            return Role.ADMIN
        if key in self.moderators:
            return Role.MODERATOR
        return None


def _entries(text: str) -> frozenset[str]:
    entries = [e.strip() for e in text.split(",") if e.strip()]
    for entry in entries:
        platform, _, user = entry.partition(":")
        if platform not in (DISCORD, SLACK) or not user:
            raise ValueError(f"{entry!r} is not discord:<user id> or slack:<user id>")
    return frozenset(entries)


@dataclass(frozen=True)
class SignInConfig:
    """Everything console sign-in needs.

    Attributes:
        public_url: where browsers reach the console (``https://jokes.example.com``); the
            redirect URIs registered with Discord and Slack are built from it, never from a
            request's Host header.
        discord: Discord sign-in, or None when not configured.
        slack: Slack sign-in, or None.
        allow: roles granted by configuration (``CONSOLE_ADMINS``, ``CONSOLE_MODERATORS``).
        login_limit: sign-in requests one client address may make per ``login_window_s``.
        login_window_s: the rate limit's window.
        rights_ttl_s: how long a decision-time answer from the platform is reused.
    """

    public_url: str
    discord: DiscordSignIn | None = None
    slack: SlackSignIn | None = None
    allow: AllowLists = AllowLists()
    login_limit: int = 10
    login_window_s: float = 60.0
    rights_ttl_s: float = 10.0

    def redirect_uri(self, platform: str) -> str:
        """The callback URL to register with ``platform``."""
        return f"{self.public_url.rstrip('/')}/login/{platform}/callback"
