"""Who may decide: a non-moderator is refused visibly; of two moderators at once, one wins."""

from bot.review import ReviewAction, outcome_line
from tests.support.surfaces import JOKES, Capability, Person, Surface, needs

JOKE1, _, _ = JOKES

pytestmark = needs(Capability.SEVERAL_PEOPLE)


async def test_review_non_moderator_changes_nothing_and_is_told_why(surface: Surface) -> None:
    await surface.ask("cats")
    await surface.drain()
    [card] = surface.cards()

    approve = await surface.approve(card, by=Person.OUTSIDER)
    edit = await surface.edit(card, "My own joke.", by=Person.OUTSIDER)
    reason = await surface.reject_with_reason(card, "meh", by=Person.OUTSIDER)
    await surface.drain()

    for told in (approve, edit, reason):
        assert "moderator" in told.lower()
    assert surface.public_posts() == []
    [still] = surface.cards()
    assert still.live
    assert still.status == ""
    await surface.approve(still)  # a moderator's click afterwards works
    await surface.drain()
    [post] = surface.public_posts()
    assert JOKE1 in post


async def test_review_two_moderators_at_once_have_one_winner(surface: Surface) -> None:
    await surface.ask("cats")
    await surface.drain()
    [card] = surface.cards()
    clicks = [
        (ReviewAction.APPROVE, Person.MODERATOR),
        (ReviewAction.REJECT, Person.SECOND_MODERATOR),
    ]

    answers = await surface.click_together(card, clicks)
    await surface.drain()

    outcomes = {
        outcome_line(action, surface.display(by)): (action, by, told)
        for (action, by), told in zip(clicks, answers, strict=True)
    }
    decided = surface.cards()[0]
    assert not decided.live
    winner_action, winner, winner_told = outcomes.pop(decided.status)
    [(_, _, loser_told)] = outcomes.values()
    assert winner_told == ""
    assert "already" in loser_told.lower()
    assert surface.display(winner) in loser_told
    published = [p for p in surface.public_posts() if JOKE1 in p]
    assert len(published) == (1 if winner_action is ReviewAction.APPROVE else 0)
