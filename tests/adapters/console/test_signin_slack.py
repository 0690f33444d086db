"""Sign in with Slack (OpenID Connect) through the console's routes against the fake provider."""

import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.console._identity import Identity, Role
from adapters.console._signin_config import AllowLists
from tests.support.fake_oauth import SlackAccount
from tests.support.fake_oauth._keys import signing_key
from tests.support.signin import SignInWorld, query_of, signin_world


@pytest.fixture
async def world() -> AsyncIterator[SignInWorld]:
    async with signin_world(allow=AllowLists.parse(admins="slack:UADMIN")) as w:
        w.slack.groups["SMODS"] = ["UGROUP"]
        yield w


def sign_in_as(world: SignInWorld, user_id: str, team_id: str = "") -> SlackAccount:
    account = world.slack.add(
        SlackAccount(user_id, f"name-{user_id}", team_id or world.slack.team_id)
    )
    world.slack.signed_in = user_id
    return account


async def test_signin_slack_verifies_the_id_token_and_signs_in_a_viewer(
    world: SignInWorld,
) -> None:
    sign_in_as(world, "UANN")

    start = await world.browser.start("slack")
    final = await world.browser.back(await world.browser.authorize(start))

    assert final.status_code == 200, final.text
    assert world.signed_in == [Identity("slack", "UANN", "name-UANN", scope=world.slack.team_id)]
    asked = query_of(start)
    assert asked["scope"] == "openid profile email"
    assert asked["team"] == world.slack.team_id
    assert asked["redirect_uri"] == "http://console.test/login/slack/callback"
    assert len(asked["nonce"]) >= 20
    assert len(asked["state"]) >= 20


@pytest.mark.parametrize(
    ("user_id", "expected"),
    [
        ("UMOD", Role.MODERATOR),  # SLACK_MODERATORS
        ("UGROUP", Role.MODERATOR),  # SLACK_MODERATOR_GROUP
        ("UADMIN", Role.ADMIN),  # CONSOLE_ADMINS
        ("UOTHER", Role.VIEWER),
    ],
)
async def test_signin_slack_maps_roles(world: SignInWorld, user_id: str, expected: Role) -> None:
    sign_in_as(world, user_id)

    final = await world.browser.login("slack")

    assert final.status_code == 200, final.text
    assert [i.role for i in world.signed_in] == [expected]


async def test_signin_slack_refuses_another_workspace(world: SignInWorld) -> None:
    sign_in_as(world, "UMOD", team_id="T0OTHER")  # a moderator's id, but elsewhere

    final = await world.browser.login("slack")

    assert final.status_code == 403
    assert "another Slack workspace" in final.text
    assert world.signed_in == []


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"aud": "someone-elses-client-id"}, "'aud'"),
        ({"iss": "https://evil.example"}, "'iss'"),
        ({"nonce": "not-the-one-we-sent"}, "'nonce'"),
        ({"exp": 1_000_000_000}, "expired"),  # 2001
        ({"at_hash": "AAAAAAAAAAAAAAAAAAAAAA"}, "'at_hash'"),
    ],
    ids=["aud", "iss", "nonce", "exp", "at_hash"],
)
async def test_signin_slack_refuses_a_bad_id_token(
    world: SignInWorld, patch: dict[str, Any], reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    sign_in_as(world, "UMOD")
    world.slack.claims_patch = patch
    caplog.set_level(logging.INFO, logger="adapters.console._oauth")

    final = await world.browser.login("slack")

    assert final.status_code == 400, final.text
    assert world.signed_in == []
    assert any(reason in r.getMessage() for r in caplog.records), caplog.text


async def test_signin_slack_refuses_an_id_token_signed_with_another_key(
    world: SignInWorld,
) -> None:
    sign_in_as(world, "UMOD")
    world.slack.sign_with = signing_key("slack-1-forged")  # not published in the JWKS

    final = await world.browser.login("slack")

    assert final.status_code == 400
    assert world.signed_in == []


async def test_signin_slack_refuses_a_forged_state(world: SignInWorld) -> None:
    sign_in_as(world, "UMOD")
    authorized = await world.browser.authorize(await world.browser.start("slack"))

    forged = await world.browser.console.get(
        "/login/slack/callback", params={"code": query_of(authorized)["code"], "state": "x"}
    )

    assert forged.status_code == 400
    assert world.slack.grants.exchanges == 0


async def test_signin_slack_refuses_a_replayed_code(world: SignInWorld) -> None:
    sign_in_as(world, "UMOD")
    first = await world.browser.authorize(await world.browser.start("slack"))
    assert (await world.browser.back(first)).status_code == 200

    second = await world.browser.authorize(await world.browser.start("slack"))
    replay = await world.browser.console.get(
        "/login/slack/callback",
        params={"code": query_of(first)["code"], "state": query_of(second)["state"]},
    )

    assert replay.status_code == 400
    assert len(world.signed_in) == 1


async def test_signin_slack_with_a_wrong_client_secret_fails(world: SignInWorld) -> None:
    sign_in_as(world, "UMOD")
    world.slack.client_secret = "rotated"  # noqa: S105

    final = await world.browser.login("slack")

    assert final.status_code == 400
    assert world.signed_in == []
