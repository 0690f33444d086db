"""Late-click answers and alerts naming people from another platform, hostile names included.

The texts come from the real runtime (one queue with a Discord and a Slack surface, requests
from both platforms, decided on one and clicked too late on the other; a model that is down
for the alerts); each is then shown through the real client against its strict fake: the
late clicker's ephemeral answer, the moderators' alert. Every name of the hostile corpus and
every mention look-alike must come out as text, named with its platform, never a mention.
"""

from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.joke import JokeOptions
from bot.models import (
    Actor,
    DecideResult,
    DecideStatus,
    DecisionRequest,
    EffectKind,
    JokeRequest,
    Origin,
    OutboxEffect,
    Surface,
)
from tests.adapters.test_discord_render import live
from tests.adapters.test_slack_hostile import message_problems, problems
from tests.e2e.test_discord_sender import review
from tests.e2e.test_slack_clicks import post_card
from tests.support.fake_discord import MOD_CHANNEL, Session, StubSink, click
from tests.support.fake_discord._rules import message_errors
from tests.support.fake_slack import FakeSlack
from tests.support.hostile import HOSTILE, LOOKALIKE_NAMES
from tests.support.llm import FakeLLM
from tests.support.platform import FakePlatform
from tests.support.slack_harness import StubSink as SlackStub, slack_http
from tests.support.stack import Stack, joke_stack

UNLIMITED = JokeOptions(cooldown_s=0.0, scope_max_active=0)  # one request per name, one scope

pytestmark = pytest.mark.usefixtures("no_slack_env")

NAMES = HOSTILE + LOOKALIKE_NAMES
QUEUE = (Surface("discord", "mods"), Surface("slack", "CMOD"))
CALLBACK = r"/interactions/\d+/[^/]+/callback"


@dataclass(frozen=True)
class Texts:
    """What the runtime says about one hostile name, per platform it is shown on."""

    late_on_discord: DecideResult  # a Slack moderator of that name won
    late_on_slack: DecideResult  # a Discord moderator of that name won
    alert_on_discord: str  # a Slack requester of that name
    alert_on_slack: str  # a Discord requester of that name


def slack_origin(i: int, name: str) -> Origin:
    asker = Actor("slack", f"U{i}REQ", f"<@U{i}REQ>", name=name)
    return Origin("slack", "T1", asker, "CMOD", "CPUB", "CGEN", review_surfaces=QUEUE)


def discord_origin(i: int, name: str) -> Origin:
    asker = Actor("discord", f"{i}", name, name=name)
    return Origin("discord", "g1", asker, "mods", "fun", "general", review_surfaces=QUEUE)


async def _platforms(stack: Stack) -> tuple[FakePlatform, FakePlatform]:
    discord, slack = FakePlatform(stack.clock), FakePlatform(stack.clock)
    stack.register("discord", discord)
    stack.register("slack", slack)
    return discord, slack


async def _late(
    stack: Stack, discord: FakePlatform, request: JokeRequest, winner: Actor, loser: Actor
) -> DecideResult:
    """Ask, let ``winner`` approve, then ``loser`` click too late: what ``loser`` is told."""
    asked = await stack.service.request_joke(request)
    assert asked.run_id is not None, asked.message
    await stack.drain()
    token = discord.latest_token(asked.run_id)  # one wait: the same token on every surface
    assert token is not None
    key = request.request_key
    won = await stack.service.decide(DecisionRequest(token, "approve", winner, f"{key}:w"))
    assert won.status is DecideStatus.APPLIED
    return await stack.service.decide(DecisionRequest(token, "approve", loser, f"{key}:l"))


async def runtime_texts(tmp_path: Path) -> dict[str, Texts]:
    """Every name's late-click answers and alerts (one stack for decisions, one for alerts)."""
    late: dict[str, tuple[DecideResult, DecideResult]] = {}
    ben = Actor("discord", "99", "Ben", is_moderator=True, name="Ben")
    cy = Actor("slack", "U99", "<@U99>", is_moderator=True, name="cy")
    (tmp_path / "late").mkdir()
    async with joke_stack(
        tmp_path / "late", llm=FakeLLM("Cats nap."), serve=False, options=UNLIMITED
    ) as stack:
        discord, _ = await _platforms(stack)
        for i, (key, name) in enumerate(NAMES):
            on_slack = Actor("slack", f"U{i}MOD", f"<@U{i}MOD>", is_moderator=True, name=name)
            on_discord = Actor("discord", f"{i}0", name, is_moderator=True, name=name)
            from_slack = JokeRequest(f"s{i}", slack_origin(i, name), "cats")
            from_discord = JokeRequest(f"d{i}", discord_origin(i, name), "cats")
            late[key] = (
                await _late(stack, discord, from_slack, on_slack, ben),
                await _late(stack, discord, from_discord, on_discord, cy),
            )
    alerts: dict[str, tuple[str, str]] = {}
    (tmp_path / "down").mkdir()
    async with joke_stack(
        tmp_path / "down", llm=FakeLLM(fail_times=999), serve=False, options=UNLIMITED
    ) as stack:
        discord, slack = await _platforms(stack)
        for i, (key, name) in enumerate(NAMES):
            runs = []
            for origin in (slack_origin(i, name), discord_origin(i, name)):
                request = JokeRequest(f"{origin.platform}{i}", origin, "cats")
                asked = await stack.service.request_joke(request)
                assert asked.run_id is not None, asked.message
                runs.append(asked.run_id)
            await stack.drain()  # the first failure: "the model failed ... for <requester>"
            [asked_on_slack] = [m for m in discord.alerts() if m.run_id == runs[0]]
            [own] = [m for m in slack.alerts() if m.run_id == runs[0]]
            [asked_on_discord] = [m for m in slack.alerts() if m.run_id == runs[1]]
            assert f"for <@U{i}REQ>" in own.payload["text"]  # on Slack: the mention we built
            alerts[key] = (asked_on_slack.payload["text"], asked_on_discord.payload["text"])
    return {key: Texts(*late[key], *alerts[key]) for key, _ in NAMES}


@pytest.fixture
async def texts(tmp_path: Path) -> dict[str, Texts]:
    return await runtime_texts(tmp_path)


async def test_names_from_slack_are_text_on_discord(
    bot: Session, sink: StubSink, texts: dict[str, Texts]
) -> None:
    card = dict(bot.fake.message(await bot.sender.send(review("Tok1"))))
    found: dict[str, list[str]] = {}
    for i, (key, name) in enumerate(NAMES):
        said = texts[key]
        assert said.late_on_discord.status is DecideStatus.ALREADY_DECIDED
        sink.decide_result = said.late_on_discord
        since = len(bot.fake.calls)
        await bot.fake.interact(click("jk:v1:Tok1:approve", card))
        answer = await bot.fake.wait_for_path("POST", CALLBACK, since=since)
        told = str(answer.body["data"]["content"])
        alert = OutboxEffect(
            f"run{i}:1:0",
            f"run{i}",
            EffectKind.ALERT,
            slack_origin(i, name),
            {"text": said.alert_on_discord},
            f"alert{i}",
            target=Surface("discord", str(MOD_CHANNEL)),
        )
        posted = bot.fake.message(await bot.sender.send(alert))
        shown = str(posted["embeds"][0]["description"])
        here = live(told) + live(shown) + list(message_errors({"content": told}))
        if " via Slack at " not in told or " (Slack)" not in shown:
            here.append(f"not named with its platform: {told!r} / {shown!r}")
        if f"U{i}MOD" in told or f"U{i}REQ" in shown:  # their Slack ids: a mention
            here.append(f"a Slack mention shown: {told!r} / {shown!r}")
        if here:
            found[key] = here
    assert not found, found


async def test_names_from_discord_are_text_on_slack(texts: dict[str, Texts]) -> None:
    stub = SlackStub()
    found: dict[str, list[str]] = {}
    async with FakeSlack() as fake, slack_http(stub, fake) as slack:
        card = await post_card(slack)
        for i, (key, name) in enumerate(NAMES):
            said = texts[key]
            assert said.late_on_slack.status is DecideStatus.ALREADY_DECIDED
            stub.answers = [said.late_on_slack]
            await slack.click(card, "approve")
            told = str((await fake.wait_webhooks(i + 1))[-1]["text"])
            alert = OutboxEffect(
                f"run{i}:1:0",
                f"run{i}",
                EffectKind.ALERT,
                discord_origin(i, name),
                {"text": said.alert_on_slack},
                f"alert{i}",
                target=Surface("slack", "CMOD"),
            )
            await slack.sender.send(alert)
            posted = fake.messages("CMOD")[-1]
            here = problems(told, markup=True) + message_problems(posted.text, posted.blocks)
            if " via Discord at " not in told or " (Discord)" not in posted.text:
                here.append(f"not named with its platform: {told!r} / {posted.text!r}")
            if here:
                found[key] = here
    assert not found, found
