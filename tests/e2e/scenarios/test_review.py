"""A moderator's decisions on a card: approve, reject and redraft, edit, reject with a reason."""

from bot.joke import prompts
from bot.review import ReviewAction, outcome_line
from tests.support.surfaces import JOKES, Capability, Person, Surface, needs

JOKE1, JOKE2, _ = JOKES
MODERATOR = Person.MODERATOR


async def test_review_approve_publishes_the_draft_once(surface: Surface) -> None:
    told = await surface.ask("cats")
    await surface.drain()
    [card] = surface.cards()

    answer = await surface.approve(card)
    await surface.drain()

    assert "cats" in told
    assert card.draft == JOKE1
    assert card.live
    assert answer == ""  # the card itself shows the outcome
    [post] = surface.public_posts()
    assert JOKE1 in post
    [decided] = surface.cards()
    assert not decided.live
    assert decided.status == outcome_line(ReviewAction.APPROVE, surface.display(MODERATOR))
    assert any(prompts.PUBLISHED.format(topic="cats") in n for n in surface.notices())
    assert surface.llm.call_count == 1


async def test_review_reject_redrafts_and_the_rejected_draft_never_returns(
    surface: Surface,
) -> None:
    await surface.ask("cats")
    await surface.drain()
    [first] = surface.cards()

    await surface.reject(first)
    await surface.drain()
    [rejected, second] = surface.cards()
    await surface.approve(second)
    await surface.drain()

    assert not rejected.live
    assert rejected.status == outcome_line(ReviewAction.REJECT, surface.display(MODERATOR))
    assert second.draft == JOKE2
    assert second.live
    [post] = surface.public_posts()
    assert JOKE2 in post
    assert JOKE1 not in post
    assert [c.draft for c in surface.cards()].count(JOKE1) == 1
    assert surface.llm.call_count == 2
    assert JOKE1 in surface.llm.calls[1].text  # the redraft is asked to avoid it


@needs(Capability.OLD_CARDS_CLICKABLE)
async def test_review_click_on_a_replaced_card_is_stale(surface: Surface) -> None:
    await surface.ask("cats")
    await surface.drain()
    [first] = surface.cards()
    await surface.reject(first)
    await surface.drain()

    told = await surface.approve(first)  # a client still showing the first card
    await surface.drain()

    assert "newer" in told
    assert surface.public_posts() == []
    assert surface.cards()[-1].live


async def test_review_edit_publishes_the_moderators_text(surface: Surface) -> None:
    await surface.ask("cats")
    await surface.drain()
    [card] = surface.cards()

    answer = await surface.edit(card, "  A better cat joke.  ")
    await surface.drain()

    assert answer == ""
    [post] = surface.public_posts()
    assert "A better cat joke." in post
    assert JOKE1 not in post
    [decided] = surface.cards()
    assert not decided.live
    assert decided.status == outcome_line(ReviewAction.EDIT, surface.display(MODERATOR))


@needs(Capability.REDRAWS_DECIDED_CARDS)
async def test_review_edited_card_shows_what_was_published(surface: Surface) -> None:
    await surface.ask("cats")
    await surface.drain()
    [card] = surface.cards()

    await surface.edit(card, "A better cat joke.")
    await surface.drain()

    [decided] = surface.cards()
    assert decided.draft == "A better cat joke."


async def test_review_reject_with_reason_shows_it_and_tells_the_model(surface: Surface) -> None:
    await surface.ask("cats")
    await surface.drain()
    [card] = surface.cards()

    answer = await surface.reject_with_reason(card, "too mean")
    await surface.drain()

    assert answer == ""
    [rejected, second] = surface.cards()
    who = surface.display(MODERATOR)
    assert rejected.status == outcome_line(ReviewAction.REJECT, who, "too mean")
    assert second.draft == JOKE2
    assert second.live
    assert "too mean" in surface.llm.calls[1].text
    assert surface.public_posts() == []
