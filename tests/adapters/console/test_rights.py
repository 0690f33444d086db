"""The decision-time re-check: the platform is asked again, briefly cached, failing closed."""

from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from adapters.console._identity import Identity, Role
from adapters.console._rights import build_rights
from adapters.console._roles import MANAGE_MESSAGES
from adapters.console._signin_config import AllowLists, DiscordSignIn
from bot.models import Actor
from tests.support.fake_oauth import DiscordAccount, SlackAccount
from tests.support.signin import SignInWorld, signin_world

MOD_ROLE, HELPER_ROLE = "31", "32"


@pytest.fixture
async def world() -> AsyncIterator[SignInWorld]:
    allow = AllowLists.parse(admins="discord:901,slack:UADMIN")
    async with signin_world(allow=allow) as w:
        w.discord.role_permissions[HELPER_ROLE] = MANAGE_MESSAGES
        w.scopes.moderator_role("discord", w.discord.guild_id, MOD_ROLE)
        w.slack.groups["SMODS"] = ["UGROUP"]
        yield w


async def discord_login(world: SignInWorld, account: DiscordAccount) -> Identity:
    world.discord.add(account)
    world.discord.signed_in = account.id
    assert (await world.browser.login("discord")).status_code == 200
    return world.signed_in[-1]


async def slack_login(world: SignInWorld, user_id: str) -> Identity:
    world.slack.add(SlackAccount(user_id, user_id.lower(), world.slack.team_id))
    world.slack.signed_in = user_id
    assert (await world.browser.login("slack")).status_code == 200
    return world.signed_in[-1]


async def test_rights_discord_removed_role_is_caught_at_decision_time(
    world: SignInWorld,
) -> None:
    account = world.discord.add(DiscordAccount("510", "mia", roles=[MOD_ROLE]))
    identity = await discord_login(world, account)
    assert identity.role is Role.MODERATOR
    assert (await world.rights.actor(identity)).is_moderator

    account.roles.clear()  # an admin takes the role away in Discord
    world.clock.advance(world.config.rights_ttl_s)
    actor = await world.rights.actor(identity)

    assert actor == Actor("discord", "510", "mia", is_moderator=False)


async def test_rights_discord_answers_are_cached_briefly(world: SignInWorld) -> None:
    account = world.discord.add(DiscordAccount("511", "mia", roles=[HELPER_ROLE]))
    identity = await discord_login(world, account)
    member_call = f"GET /api/v10/guilds/{world.discord.guild_id}/members/511"

    await world.rights.role_now(identity)
    account.roles.clear()
    world.clock.advance(world.config.rights_ttl_s - 1)
    cached = await world.rights.role_now(identity)
    world.clock.advance(1)
    fresh = await world.rights.role_now(identity)

    assert (cached, fresh) == (Role.MODERATOR, Role.VIEWER)
    assert world.discord.calls.count(member_call) == 2


async def test_rights_discord_member_who_left_has_no_role(world: SignInWorld) -> None:
    account = world.discord.add(DiscordAccount("512", "mia", roles=[MOD_ROLE]))
    identity = await discord_login(world, account)

    account.member = False
    world.clock.advance(world.config.rights_ttl_s)

    assert await world.rights.role_now(identity) is None
    assert not (await world.rights.actor(identity)).is_moderator


async def test_rights_discord_without_a_bot_token_only_the_allow_lists_count() -> None:
    async with signin_world(allow=AllowLists.parse(admins="discord:901")) as world:
        assert world.config.discord is not None
        no_bot = DiscordSignIn(
            world.config.discord.client_id,
            world.config.discord.client_secret,
            world.config.discord.guild_id,
            api_base=world.config.discord.api_base,
        )
        world.scopes.moderator_role("discord", world.discord.guild_id, MOD_ROLE)
        rights = build_rights(
            replace(world.config, discord=no_bot), world.http, world.scopes, now=world.clock.now
        )
        mod = Identity("discord", "510", "mia", Role.MODERATOR, world.discord.guild_id)
        admin = Identity("discord", "901", "al", Role.ADMIN, world.discord.guild_id)

        assert await rights.role_now(mod) is Role.VIEWER  # cannot confirm the role: closed
        assert await rights.role_now(admin) is Role.ADMIN
        assert world.discord.calls == []


async def test_rights_discord_outage_fails_closed_and_is_not_cached(world: SignInWorld) -> None:
    account = world.discord.add(DiscordAccount("513", "mia", roles=[MOD_ROLE]))
    identity = await discord_login(world, account)
    admin = Identity("discord", "901", "al", Role.ADMIN, world.discord.guild_id)
    world.clock.advance(world.config.rights_ttl_s)

    world.discord.bot_token = "revoked"  # noqa: S105  # every bot call now answers 401
    during = (await world.rights.role_now(identity), await world.rights.role_now(admin))
    world.discord.bot_token = world.config.discord.bot_token  # type: ignore[union-attr]
    after = await world.rights.role_now(identity)

    assert during == (Role.VIEWER, Role.ADMIN)
    assert after is Role.MODERATOR


async def test_rights_slack_removed_from_the_group_is_caught(world: SignInWorld) -> None:
    identity = await slack_login(world, "UGROUP")
    assert identity.role is Role.MODERATOR

    world.slack.groups["SMODS"] = []
    world.clock.advance(world.config.rights_ttl_s)

    assert await world.rights.role_now(identity) is Role.VIEWER
    assert world.slack.calls.count("usergroups.users.list") == 2  # sign-in, then the re-check


async def test_rights_slack_deactivated_account_has_no_role(world: SignInWorld) -> None:
    identity = await slack_login(world, "UMOD")

    world.slack.accounts["UMOD"].deleted = True
    world.clock.advance(world.config.rights_ttl_s)

    assert await world.rights.role_now(identity) is None
    assert world.slack.calls.count("users.info") == 1  # at the re-check, not at sign-in


async def test_rights_slack_group_outage_keeps_only_the_listed_moderators(
    world: SignInWorld,
) -> None:
    grouped = await slack_login(world, "UGROUP")
    listed = await slack_login(world, "UMOD")
    world.clock.advance(world.config.rights_ttl_s)

    del world.slack.groups["SMODS"]  # the group lookup now fails (no_such_subteam)

    assert await world.rights.role_now(grouped) is Role.VIEWER
    assert await world.rights.role_now(listed) is Role.MODERATOR


async def test_rights_unknown_platform_has_no_role(world: SignInWorld) -> None:
    stranger = Identity("terminal", "ann", "Ann", Role.ADMIN, "local")

    assert await world.rights.role_now(stranger) is None
    assert await world.rights.actor(stranger) == Actor("terminal", "ann", "Ann")
