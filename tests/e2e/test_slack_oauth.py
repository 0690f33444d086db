"""Slack multi-workspace mode end to end: the OAuth install through Bolt's flow, requests and
effects with each workspace's own token, and token expiry → refresh, against FakeSlack."""

import json
import time
from dataclasses import replace
from pathlib import Path

import pytest

from bot.models import ScopeConfig
from tests.support.clock import FakeClock
from tests.support.fake_slack_oauth import TOKEN_TTL_S
from tests.support.slack_harness import MOD, StubSink, settle, slack_http
from tests.support.slack_oauth import ONE, TWO, multi_slack

pytestmark = pytest.mark.usefixtures("no_slack_env")


async def test_install_through_bolt_stores_the_workspace_and_its_rotating_token(
    tmp_path: Path,
) -> None:
    clock = FakeClock(time.time())  # Bolt dates a new token's expiry by the real clock
    async with multi_slack(tmp_path, clock) as slack:
        status, text = await slack.install(ONE)
        found = await slack.installs.find_installation("", "T1")

    assert status == 200, text
    assert found is not None
    assert found.bot_token.startswith("xoxe.xoxb-1-T1-")
    assert found.refresh_token.startswith("xoxe-1-T1-")
    assert (found.bot_user_id, found.bot_id, found.installer_id) == ("U1BOT", "B1BOT", "U0ADMIN")
    assert found.expires_at == pytest.approx(time.time() + TOKEN_TTL_S, abs=5)
    assert set(found.scopes.split(",")) >= {"commands", "chat:write"}
    assert slack.fake.oauth.exchanges == ["authorization_code"]


def bearer(call_auth: str) -> str:
    return call_auth.removeprefix("Bearer ")


async def test_joke_from_two_workspaces_each_answered_with_its_own_token(tmp_path: Path) -> None:
    clock = FakeClock(time.time())
    async with multi_slack(tmp_path, clock) as slack:
        for workspace in (ONE, TWO):
            assert (await slack.install(workspace))[0] == 200
            await slack.set_up(workspace.team_id)
        answers = [await slack.joke("cats", team) for team in ("T1", "T2")]
        await settle()
        await slack.stack.drain()
        one = await slack.installs.find_installation("", "T1")
        two = await slack.installs.find_installation("", "T2")
        posts = slack.fake.calls_to("chat.postMessage")

    assert one is not None
    assert two is not None
    assert one.bot_token != two.bot_token
    for status, text in answers:
        assert status == 200
        assert json.loads(text)["text"].startswith("Got it!")
    cards = {(str(c.params["channel"]), bearer(c.auth)) for c in posts}
    assert cards == {("C1MOD", one.bot_token), ("C2MOD", two.bot_token)}
    assert [len(slack.fake.messages(c)) for c in ("C1MOD", "C2MOD")] == [1, 1]


async def test_setup_names_a_workspaces_channels_and_keeps_its_screen(tmp_path: Path) -> None:
    clock = FakeClock(time.time())
    async with multi_slack(tmp_path, clock) as slack:
        await slack.install(ONE)
        before = await slack.joke("cats", "T1")
        await slack.stack.store.save_scope(ScopeConfig("slack", "T1", "", "", screen_threshold=0.3))
        answer = await slack.set_up("T1")
        refused = await slack.joke("setup <#C1MOD|mods> <#C1PUB|jokes>", "T1", user="UREQ")
        unusable = await slack.joke("setup #mods #jokes", "T1", user=MOD)
        saved = await slack.stack.store.get_scope("slack", "T1")

    assert "set up" in json.loads(before[1])["text"].lower()  # no channels yet: not set up
    assert answer == "Saved: review cards go to channel C1MOD, approved jokes to channel C1PUB."
    assert saved == ScopeConfig("slack", "T1", "C1MOD", "C1PUB", screen_threshold=0.3)
    assert "Only jokebot's moderators" in json.loads(refused[1])["text"]
    assert "/joke setup #moderators #jokes" in json.loads(unusable[1])["text"]


async def test_joke_from_a_workspace_that_never_installed_is_refused(tmp_path: Path) -> None:
    clock = FakeClock(time.time())
    async with multi_slack(tmp_path, clock) as slack:
        await slack.install(ONE)
        status, text = await slack.joke("cats", "T2")
        await settle()

        [told] = await slack.fake.wait_webhooks(1)

        # Bolt tells the user itself (via response_url) when authorize finds no installation
        assert (status, text) == (200, "")
        assert "reinstall this app" in told["text"]
        assert await slack.stack.store.get_scope("slack", "T2") is None
        assert slack.fake.calls_to("chat.postMessage") == []


async def test_expired_token_is_refreshed_before_the_request_and_the_card(tmp_path: Path) -> None:
    clock = FakeClock(time.time())
    async with multi_slack(tmp_path, clock) as slack:
        await slack.install(ONE)
        await slack.set_up("T1")
        before = await slack.installs.find_installation("", "T1")
        clock.advance(TOKEN_TTL_S + 60)  # the 12 hours are over: Slack refuses the old token

        status, text = await slack.joke("cats", "T1")
        await settle()
        await slack.stack.drain()
        after = await slack.installs.find_installation("", "T1")
        posts = slack.fake.calls_to("chat.postMessage")

    assert before is not None
    assert after is not None
    assert status == 200
    assert json.loads(text)["text"].startswith("Got it!")
    assert slack.fake.oauth.exchanges == ["authorization_code", "refresh_token"]
    assert after.bot_token != before.bot_token
    assert after.refresh_token != before.refresh_token
    assert after.expires_at == pytest.approx(clock.now() + TOKEN_TTL_S)
    assert [bearer(c.auth) for c in posts] == [after.bot_token]
    assert slack.fake.oauth.token_error(before.bot_token) == "token_expired"


async def test_token_slack_calls_expired_is_refreshed_and_the_effect_sent(tmp_path: Path) -> None:
    clock = FakeClock(time.time())
    async with multi_slack(tmp_path, clock) as slack:
        await slack.install(ONE)
        await slack.set_up("T1")
        assert (await slack.joke("cats", "T1"))[0] == 200
        await settle()
        stored = await slack.installs.find_installation("", "T1")
        assert stored is not None
        # our clock and Slack's disagree: we think it good for hours, Slack says expired
        clock.advance(TOKEN_TTL_S + 60)
        await slack.installs.save_installation(replace(stored, expires_at=clock.now() + 36_000))

        await slack.stack.drain()
        after = await slack.installs.find_installation("", "T1")
        posts = slack.fake.calls_to("chat.postMessage")

    assert after is not None
    assert after.bot_token != stored.bot_token
    assert [bearer(c.auth) for c in posts] == [stored.bot_token, after.bot_token]
    assert len(slack.fake.messages("C1MOD")) == 1
    assert slack.fake.oauth.exchanges == ["authorization_code", "refresh_token"]


async def test_setup_in_single_workspace_mode_points_at_the_settings() -> None:
    sink = StubSink()
    async with slack_http(sink) as slack:
        status, text, _ = await slack.joke("setup <#CMOD|mods> <#CPUB|jokes>", user=MOD)

    assert status == 200
    assert "SLACK_MOD_CHANNEL" in json.loads(text)["text"]
    assert sink.requests == []
    assert sink.scopes == {}
