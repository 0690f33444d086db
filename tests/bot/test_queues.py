"""One queue, several surfaces: a request from one platform reviewed on another (FakePlatforms)."""

from pathlib import Path

import pytest

from bot.errors import BadRequest
from bot.models import Actor, DecideStatus, DecisionRequest, JokeRequest, Origin, Surface
from tests.support.clock import FakeClock
from tests.support.llm import FakeLLM
from tests.support.platform import FakePlatform
from tests.support.stack import Stack, joke_stack

ANN = Actor("discord", "u1", "@ann")
ANA_ON_SLACK = Actor("slack", "U2", "Ana", is_moderator=True)
BEN_ON_DISCORD = Actor("discord", "u3", "@ben", is_moderator=True)
QUEUE = (Surface("discord", "mods"), Surface("slack", "CMOD"))


def origin() -> Origin:
    return Origin("discord", "guild1", ANN, "mods", "fun", "general", review_surfaces=QUEUE)


@pytest.fixture
def discord() -> FakePlatform:
    return FakePlatform(FakeClock())


@pytest.fixture
def slack() -> FakePlatform:
    return FakePlatform(FakeClock())


async def ask(stack: Stack) -> str:
    result = await stack.service.request_joke(JokeRequest("discord:1", origin(), "cats"))
    assert result.run_id is not None
    await stack.drain()
    return result.run_id


async def test_queue_cards_on_every_surface_decided_from_another_platform(
    tmp_path: Path, discord: FakePlatform, slack: FakePlatform
) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM("Cats nap. A lot."), serve=False) as stack:
        stack.register("discord", discord)
        stack.register("slack", slack)
        run_id = await ask(stack)
        token = slack.latest_token(run_id)
        assert token is not None
        won = await stack.service.decide(DecisionRequest(token, "approve", ANA_ON_SLACK, "s1"))
        lost = await stack.service.decide(DecisionRequest(token, "approve", BEN_ON_DISCORD, "d1"))
        await stack.drain()

    assert [m.channel for m in discord.cards(run_id)] == ["mods"]
    assert [m.channel for m in slack.cards(run_id)] == ["CMOD"]
    assert discord.latest_token(run_id) == token  # one wait, one token, a card per surface
    for platform in (discord, slack):
        (card,) = platform.cards(run_id)
        assert [e["via"] for e in card.edits] == ["Slack"]
    assert [(m.channel, m.payload["text"]) for m in discord.public_posts(run_id)] == [
        ("fun", "Cats nap. A lot.")
    ]
    assert slack.public_posts(run_id) == []
    assert slack.notices(run_id) == []
    assert len(discord.notices(run_id)) == 1
    assert won.status == DecideStatus.APPLIED
    assert lost.status == DecideStatus.ALREADY_DECIDED
    assert "Ana via Slack" in lost.message


async def test_queue_alerts_reach_every_surface(
    tmp_path: Path, discord: FakePlatform, slack: FakePlatform
) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM(fail_times=99), serve=False) as stack:
        stack.register("discord", discord)
        stack.register("slack", slack)
        run_id = await ask(stack)
        for _ in range(6):  # the model stays down through every retry
            stack.clock.advance(3600)
            await stack.drain()

    assert discord.public_posts(run_id) == []
    # "the model is down", then "gave up": each reaches the moderators of every surface
    assert [m.channel for m in discord.alerts()] == ["mods", "mods"]
    assert [m.channel for m in slack.alerts()] == ["CMOD", "CMOD"]
    assert [m.payload["text"] for m in discord.alerts()] == [
        m.payload["text"] for m in slack.alerts()
    ]
    assert slack.notices(run_id) == []  # the requester hears it where they asked, only
    assert discord.notices(run_id) != []


async def test_queue_link_code_routes_a_scope_to_a_surface_on_another_platform(
    tmp_path: Path, discord: FakePlatform, slack: FakePlatform
) -> None:
    plain = Origin("discord", "guild1", ANN, "mods", "fun", "general")
    async with joke_stack(tmp_path, llm=FakeLLM("One.", "Two."), serve=False) as stack:
        stack.register("discord", discord)
        stack.register("slack", slack)
        before = await stack.service.request_joke(JokeRequest("discord:1", plain, "cats"))
        code = await stack.service.link_code("discord", "guild1")
        answer = await stack.service.link(
            code.code.lower().replace("-", " "), Surface("slack", "CMOD")
        )
        again = await stack.service.link_code("discord", "guild1")
        repeated = await stack.service.link(again.code, Surface("slack", "CMOD"))
        with pytest.raises(BadRequest, match="unknown, already used or expired"):
            await stack.service.link(code.code, Surface("slack", "COTHER"))
        after = await stack.service.request_joke(JokeRequest("discord:2", plain, "dogs"))
        await stack.drain()

    assert "now reviewed in this channel" in answer
    assert "already reviews" in repeated
    assert code.expires_at == stack.clock.now() + 600
    assert [m.run_id for m in discord.cards()] == [before.run_id, after.run_id]
    assert [m.run_id for m in slack.cards()] == [after.run_id]  # runs in flight keep their queue


async def test_queue_link_code_expires(tmp_path: Path) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM("One."), serve=False) as stack:
        code = await stack.service.link_code("slack", "T1")
        stack.clock.advance(601)

        with pytest.raises(BadRequest):
            await stack.service.link(code.code, Surface("discord", "mods"))


async def test_queue_cards_carry_plain_names_for_the_other_platforms(
    tmp_path: Path, discord: FakePlatform, slack: FakePlatform
) -> None:
    asker = Actor("slack", "U9", "<@U9>", name="ana")
    request = JokeRequest(
        "slack:T1:t1",
        Origin("slack", "T1", asker, "CMOD", "CPUB", "CGEN", review_surfaces=QUEUE),
        "cats",
    )
    decider = Actor("slack", "U2", "<@U2>", is_moderator=True, name="mo")
    async with joke_stack(tmp_path, llm=FakeLLM("Cats nap. A lot."), serve=False) as stack:
        stack.register("discord", discord)
        stack.register("slack", slack)
        result = await stack.service.request_joke(request)
        assert result.run_id is not None
        await stack.drain()
        token = discord.latest_token(result.run_id)
        assert token is not None
        await stack.service.decide(DecisionRequest(token, "approve", decider, "s1"))
        await stack.drain()

    (card,) = discord.cards(result.run_id)
    shown = card.payload["card"]
    assert (shown["requester"], shown["requester_name"]) == ("<@U9>", "ana")
    assert shown["requester_platform"] == "slack"
    assert [(e["actor"], e["actor_name"], e["via"]) for e in card.edits] == [
        ("<@U2>", "mo", "Slack")
    ]
