"""Role mapping rules and configuration parsing for console sign-in."""

import pytest

from adapters.console._identity import Identity, Role
from adapters.console._roles import (
    ADMINISTRATOR,
    ALL_PERMISSIONS,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    discord_role,
    guild_permissions,
    slack_role,
)
from adapters.console._signin_config import AllowLists, DiscordSignIn, SignInConfig, SlackSignIn
from bot.models import Actor

GUILD, OWNER = "100", "7"
ROLES = {GUILD: 1 << 10, "1": MANAGE_MESSAGES, "2": ADMINISTRATOR, "3": MANAGE_GUILD}


@pytest.mark.parametrize(
    ("user", "roles", "expected"),
    [
        ("8", [], 1 << 10),  # @everyone's only
        ("8", ["1"], (1 << 10) | MANAGE_MESSAGES),
        ("8", ["2"], ALL_PERMISSIONS),  # Administrator implies everything
        ("8", ["404"], 1 << 10),  # a role the server no longer has
        (OWNER, [], ALL_PERMISSIONS),
    ],
)
def test_roles_guild_permissions(user: str, roles: list[str], expected: int) -> None:
    assert guild_permissions(GUILD, OWNER, user, roles, ROLES) == expected


@pytest.mark.parametrize(
    ("roles", "permissions", "moderator_role", "expected"),
    [
        ([], 0, "", Role.VIEWER),
        (["5"], 0, "5", Role.MODERATOR),
        (["5"], 0, "", Role.VIEWER),  # no moderator role configured: a role id is not enough
        ([], MANAGE_MESSAGES, "", Role.MODERATOR),
        ([], MANAGE_GUILD, "", Role.ADMIN),
        (["5"], None, "5", Role.MODERATOR),  # permissions unknown: the role still counts
        ([], None, "", Role.VIEWER),
    ],
)
def test_roles_discord(
    roles: list[str], permissions: int | None, moderator_role: str, expected: Role
) -> None:
    assert discord_role("8", roles, permissions, moderator_role, AllowLists()) is expected


def test_roles_allow_lists_raise_but_never_lower() -> None:
    allow = AllowLists.parse(admins="discord:8, slack:U1", moderators="slack:U2")

    assert discord_role("8", [], 0, "", allow) is Role.ADMIN
    assert slack_role("U1", (), (), allow) is Role.ADMIN
    assert slack_role("U2", (), (), allow) is Role.MODERATOR
    assert slack_role("U3", ("U3",), (), allow) is Role.MODERATOR
    assert slack_role("U4", (), ("U4",), allow) is Role.MODERATOR
    assert slack_role("U5", (), (), allow) is Role.VIEWER
    assert allow.role("slack", "8") is None  # ids are per platform


@pytest.mark.parametrize("bad", ["8", "github:8", "discord:", ":8"])
def test_roles_allow_list_entries_name_a_platform(bad: str) -> None:
    with pytest.raises(ValueError, match="discord:<user id>"):
        AllowLists.parse(admins=bad)


def test_identity_role_labels_round_trip_and_refuse_tampering() -> None:
    assert [Role.from_label(r.label) for r in Role] == list(Role)
    with pytest.raises(ValueError, match="unknown role"):
        Role.from_label("superuser")


def test_identity_actor_is_a_moderator_from_moderator_up() -> None:
    ann = Identity("slack", "U1", "Ann", scope="T1")

    assert ann.actor() == Actor("slack", "U1", "Ann", is_moderator=False)
    assert ann.with_role(Role.MODERATOR).actor().is_moderator
    assert ann.with_role(Role.ADMIN).actor().is_moderator


BOT_TOKEN = "b0t-token"  # noqa: S105  # a made-up token: is it kept out of repr?


def test_signin_config_endpoints_and_secrets_out_of_repr() -> None:
    discord = DiscordSignIn("1", "s3cret-d", "100", bot_token=BOT_TOKEN)
    slack = SlackSignIn("2", "s3cret-s", "T1", bot_token="xoxb-" + BOT_TOKEN)
    config = SignInConfig("https://jokes.example.com/", discord=discord, slack=slack)

    assert discord.authorize_url == "https://discord.com/oauth2/authorize"
    assert discord.token_url == "https://discord.com/api/v10/oauth2/token"  # noqa: S105
    assert slack.authorize_url == "https://slack.com/openid/connect/authorize"
    assert slack.jwks_url == "https://slack.com/openid/connect/keys"
    assert slack.api("openid.connect.token") == "https://slack.com/api/openid.connect.token"
    assert config.redirect_uri("slack") == "https://jokes.example.com/login/slack/callback"
    assert not any(s in repr(config) for s in ("s3cret", "b0t"))
