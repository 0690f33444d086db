"""``/joke status``: each of the requester's requests where it is, through the real adapters.

The scope's limit is the default (five drafting or in review at once): a sixth request waits in
line, is told its place, keeps it across a restart and moves up when a card is decided.
"""

from bot.joke import JokeOptions
from tests.support.surfaces import Capability, Surface, needs

pytestmark = needs(Capability.ASKS_STATUS)

LIMIT = JokeOptions().scope_max_active


def line(status: str, topic: str) -> str:
    """The one line of ``status`` about ``topic``."""
    [found] = [row for row in status.splitlines() if f"“{topic}”" in row]
    return found


async def test_status_follows_a_request_from_review_to_approved(surface: Surface) -> None:
    nothing = await surface.ask("status")
    await surface.ask("cats")
    await surface.drain()

    in_review = await surface.ask("status")
    [card] = surface.cards()
    await surface.approve(card)
    await surface.drain()
    approved = await surface.ask("status")

    assert "no joke requests" in nothing
    assert "waiting for a moderator (#1 in the review queue)" in line(in_review, "cats")
    assert "approved" in line(approved, "cats")
    assert approved.splitlines()[-1] == "You can ask for another joke now."
    assert len(surface.cards()) == 1  # asking for the status drafted nothing


async def test_status_shows_the_place_in_line_beyond_the_scope_limit(surface: Surface) -> None:
    topics = [f"topic{n}" for n in range(LIMIT + 2)]
    answers = [await surface.ask(topic) for topic in topics]
    await surface.drain()

    assert "#1 in line" in answers[LIMIT]
    assert "#2 in line" in answers[LIMIT + 1]
    assert len(surface.cards()) == LIMIT

    await surface.restart()
    kept = await surface.ask("status")
    first = next(c for c in surface.cards() if c.live)
    await surface.reject_with_reason(first, "not funny")
    await surface.later(1)  # the rejection redrafts: topic0 keeps its slot
    redrafted = await surface.ask("status")
    await surface.approve([c for c in surface.cards() if c.live][-1])  # the new draft
    await surface.drain()
    moved = await surface.ask("status")

    assert "#1 in line" in line(kept, topics[LIMIT])
    assert "#2 in line" in line(kept, topics[LIMIT + 1])
    assert f"(#{LIMIT} in the review queue)" in line(kept, topics[LIMIT - 1])
    assert f"(#{LIMIT} in the review queue)" in line(redrafted, topics[0])  # a new card
    assert "#1 in line" in line(redrafted, topics[LIMIT])
    assert "approved" in line(moved, topics[0])
    assert "waiting for a moderator" in line(moved, topics[LIMIT])
    assert "#1 in line" in line(moved, topics[LIMIT + 1])
    assert len([c for c in surface.cards() if c.live]) == LIMIT
