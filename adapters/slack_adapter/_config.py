"""SlackConfig: the plain values the Slack adapter is built from (never read from env here)."""

from dataclasses import dataclass

PLATFORM = "slack"
DEFAULT_API_BASE = "https://slack.com/api/"
# what manifest.yml asks for (tests/adapters check they agree)
BOT_SCOPES = (
    "channels:history",
    "channels:read",
    "chat:write",
    "commands",
    "groups:history",
    "groups:read",
    "im:write",
    "usergroups:read",
    "users:read",
)


@dataclass(frozen=True)
class SlackConfig:
    """Everything the Slack adapter needs; the CLI fills it from ``Settings``.

    Attributes:
        bot_token: ``xoxb-…``.
        mod_channel: channel id (``C…``/``G…``) where review cards go.
        public_channel: channel id where approved jokes go.
        moderators: user ids allowed to decide.
        moderator_group: a user group id (``S…``) whose members may decide too.
        app_token: ``xapp-…`` with ``connections:write`` (Socket Mode).
        signing_secret: the app's signing secret (HTTP mode).
        api_base: Web API base URL ending in ``/api/``; only tests point it elsewhere.
        rate_limit_retries: how many 429s in a row one call sits out before failing.
        group_cache_s: how long the moderator group's member list is trusted.
        history_limit: the page size of ``conversations.history`` when reconciling.
        reconcile_pages: how many history pages one reconcile may read before it gives up
            (``CannotReconcile``: the effect turns ``uncertain`` and the moderators are told).
        clock_skew_s: how much earlier than the effect's creation (our clock) a reconcile
            reads, in case Slack's clock is behind ours.
        decide_budget_s: how long a modal submission waits for the decision before it acks.
        request_budget_s: how long ``/joke`` waits for its run to be saved before it acks
            "working on it" (the answer then follows via response_url); Slack allows 3 s.
        command: the slash command's name.
        team_id: the workspace (``T…``) this bot serves; empty: the bot token's own, as
            ``auth.test`` reports it. Requests from any other workspace are refused.
        client_id: the app's client id; with ``client_secret`` it turns on multi-workspace
            mode (HTTP only): workspaces install the app at ``/slack/install`` and each is
            served with its own, rotating, bot token; ``bot_token`` is then unused.
        client_secret: the app's client secret (Basic Information → App Credentials).
        redirect_url: the OAuth Redirect URL, ``https://<host>/slack/oauth_redirect``.
        bot_scopes: the bot scopes the install asks for.
        authorize_url: Slack's authorize page; only tests point it elsewhere.
    """

    bot_token: str
    mod_channel: str
    public_channel: str
    moderators: tuple[str, ...] = ()
    moderator_group: str = ""
    app_token: str = ""
    signing_secret: str = ""
    api_base: str | None = None
    rate_limit_retries: int = 2
    group_cache_s: float = 60.0
    history_limit: int = 200
    reconcile_pages: int = 20
    clock_skew_s: float = 300.0
    decide_budget_s: float = 2.0
    request_budget_s: float = 2.0
    command: str = "/joke"
    team_id: str = ""
    client_id: str = ""
    client_secret: str = ""
    redirect_url: str = ""
    bot_scopes: tuple[str, ...] = BOT_SCOPES
    authorize_url: str | None = None

    @property
    def multi_workspace(self) -> bool:
        """Whether the OAuth install flow (and one token per workspace) is on."""
        return bool(self.client_id and self.client_secret)
