"""Sign in with Discord through the console's routes against the fake Discord OAuth2 server."""

from collections.abc import AsyncIterator

import pytest

from adapters.console._identity import Identity, Role
from adapters.console._roles import ADMINISTRATOR, MANAGE_GUILD, MANAGE_MESSAGES
from adapters.console._signin_config import AllowLists
from tests.support.fake_oauth import DiscordAccount
from tests.support.signin import SignInWorld, query_of, signin_world

MOD_ROLE, HELPER_ROLE, MANAGER_ROLE, ADMIN_ROLE = "31", "32", "33", "34"


@pytest.fixture
async def world() -> AsyncIterator[SignInWorld]:
    allow = AllowLists.parse(admins="discord:901", moderators="discord:902")
    async with signin_world(allow=allow) as w:
        w.discord.role_permissions.update(
            {
                MOD_ROLE: 0,
                HELPER_ROLE: MANAGE_MESSAGES,
                MANAGER_ROLE: MANAGE_GUILD,
                ADMIN_ROLE: ADMINISTRATOR,
            }
        )
        w.scopes.moderator_role("discord", w.discord.guild_id, MOD_ROLE)
        yield w


def sign_in_as(world: SignInWorld, account: DiscordAccount) -> None:
    world.discord.add(account)
    world.discord.signed_in = account.id


async def test_signin_discord_member_without_roles_is_a_viewer(world: SignInWorld) -> None:
    sign_in_as(world, DiscordAccount("501", "ann", global_name="Ann", nick="Annie"))

    start = await world.browser.start("discord")
    final = await world.browser.back(await world.browser.authorize(start))

    assert final.status_code == 200, final.text
    assert world.signed_in == [Identity("discord", "501", "Annie", scope=world.discord.guild_id)]
    asked = query_of(start)
    assert asked["scope"] == "identify guilds.members.read"
    assert asked["redirect_uri"] == "http://console.test/login/discord/callback"
    assert asked["client_id"] == world.discord.client_id
    assert len(asked["state"]) >= 20


@pytest.mark.parametrize(
    ("user_id", "roles", "expected"),
    [
        ("510", [MOD_ROLE], Role.MODERATOR),  # the server's /jokeconfig moderator role
        ("511", [HELPER_ROLE], Role.MODERATOR),  # Manage Messages
        ("512", [MANAGER_ROLE], Role.ADMIN),  # Manage Server, who may run /jokeconfig
        ("513", [ADMIN_ROLE], Role.ADMIN),  # Administrator
        ("1", [], Role.ADMIN),  # the server's owner
        ("901", [], Role.ADMIN),  # CONSOLE_ADMINS
        ("902", [], Role.MODERATOR),  # CONSOLE_MODERATORS
        ("514", ["99"], Role.VIEWER),  # a role that grants nothing here
    ],
)
async def test_signin_discord_maps_roles(
    world: SignInWorld, user_id: str, roles: list[str], expected: Role
) -> None:
    sign_in_as(world, DiscordAccount(user_id, f"user{user_id}", roles=roles))

    final = await world.browser.login("discord")

    assert final.status_code == 200, final.text
    assert [i.role for i in world.signed_in] == [expected]
    assert final.text == f"signed in as {expected.label}"


async def test_signin_discord_refuses_someone_from_another_server(world: SignInWorld) -> None:
    sign_in_as(world, DiscordAccount("520", "eve", member=False))

    final = await world.browser.login("discord")

    assert final.status_code == 403
    assert "not a member" in final.text
    assert world.signed_in == []


async def test_signin_discord_refuses_a_forged_state(world: SignInWorld) -> None:
    sign_in_as(world, DiscordAccount("530", "ann"))
    authorized = await world.browser.authorize(await world.browser.start("discord"))
    code = query_of(authorized)["code"]

    forged = await world.browser.console.get(
        "/login/discord/callback", params={"code": code, "state": "forged-state"}
    )

    assert forged.status_code == 400
    assert world.signed_in == []
    assert world.discord.grants.exchanges == 0  # the code never reached the token endpoint


async def test_signin_discord_refuses_a_callback_from_another_browser(
    world: SignInWorld,
) -> None:
    sign_in_as(world, DiscordAccount("531", "ann"))
    authorized = await world.browser.authorize(await world.browser.start("discord"))

    stranger = world.browser_at("127.0.0.1")  # no session: no state stored for it
    final = await stranger.back(authorized)

    assert final.status_code == 400
    assert world.signed_in == []


async def test_signin_discord_refuses_a_replayed_code(world: SignInWorld) -> None:
    sign_in_as(world, DiscordAccount("540", "ann"))
    first = await world.browser.authorize(await world.browser.start("discord"))
    assert (await world.browser.back(first)).status_code == 200
    old_code = query_of(first)["code"]

    second = await world.browser.authorize(await world.browser.start("discord"))
    replay = await world.browser.console.get(
        "/login/discord/callback", params={"code": old_code, "state": query_of(second)["state"]}
    )

    assert replay.status_code == 400
    assert len(world.signed_in) == 1
    assert world.discord.grants.exchanges == 1


async def test_signin_discord_refuses_an_expired_code(world: SignInWorld) -> None:
    sign_in_as(world, DiscordAccount("550", "ann"))
    authorized = await world.browser.authorize(await world.browser.start("discord"))

    world.clock.advance(world.discord.grants.code_ttl_s + 1)
    final = await world.browser.back(authorized)

    assert final.status_code == 400
    assert world.signed_in == []


async def test_signin_discord_refused_consent_signs_nobody_in(world: SignInWorld) -> None:
    sign_in_as(world, DiscordAccount("560", "ann"))
    world.discord.deny = True

    final = await world.browser.login("discord")

    assert final.status_code == 400
    assert world.signed_in == []


async def test_signin_discord_with_a_wrong_client_secret_fails() -> None:
    async with signin_world() as world:
        world.discord.client_secret = "rotated-in-the-portal"  # noqa: S105
        sign_in_as(world, DiscordAccount("570", "ann"))

        final = await world.browser.login("discord")

        assert final.status_code == 400
        assert world.signed_in == []
        assert world.discord.grants.exchanges == 0


async def test_signin_unconfigured_provider_is_not_found() -> None:
    async with signin_world(slack=None) as world:
        start = await world.browser.start("slack")
        other = await world.browser.start("github")

        assert start.status_code == 404
        assert other.status_code == 404
