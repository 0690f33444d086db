"""End to end on the real embedded SmolLM2 model: request, reject twice, approve."""

from pathlib import Path

import pytest

from bot.joke.hygiene import blocked_term, is_near_duplicate
from bot.llm import EmbeddedChat
from bot.models import Actor, DecideStatus, DecisionRequest, JokeRequest, Origin, RequestStatus
from tests.support.clock import FakeClock
from tests.support.platform import FakePlatform
from tests.support.stack import joke_stack

pytestmark = pytest.mark.embedded
MOD = Actor("fake", "m1", "@mod", is_moderator=True)
ORIGIN = Origin("fake", "g", Actor("fake", "u1", "@ann"), "mods", "fun", "general")


async def test_embedded_model_drafts_fresh_clean_jokes_until_one_is_approved(
    tmp_path: Path,
) -> None:
    platform = FakePlatform(FakeClock())
    async with joke_stack(tmp_path, llm=EmbeddedChat(), serve=False) as stack:
        stack.register("fake", platform)
        result = await stack.service.request_joke(JokeRequest("k1", ORIGIN, "cats"))
        assert result.status == RequestStatus.ACCEPTED
        assert result.run_id is not None
        run_id = result.run_id
        await stack.drain()
        for n, action in enumerate(["reject", "reject", "approve"]):
            token = platform.latest_token(run_id)
            assert token is not None
            decided = await stack.service.decide(DecisionRequest(token, action, MOD, f"i{n}"))
            assert decided.status == DecideStatus.APPLIED
            await stack.drain()

    drafts = [str(card.payload["card"]["draft"]) for card in platform.cards(run_id)]
    published = platform.public_posts(run_id)
    assert len(drafts) == 3
    assert all(0 < len(d) <= 300 for d in drafts)
    assert all(blocked_term(d) is None for d in drafts)
    assert not is_near_duplicate(drafts[2], drafts[:2])
    assert not is_near_duplicate(drafts[1], drafts[:1])
    assert [p.payload["text"] for p in published] == [drafts[2]]
    assert "SmolLM2-135M, embedded" in str(platform.cards(run_id)[0].payload["card"]["model_label"])
