"""When the bot or its model is down: a restart between card and click, expiry, model outage."""

from bot.joke import prompts
from bot.review import ReviewAction, outcome_line
from tests.support.surfaces import JOKES, Capability, Surface, needs

JOKE1, _, _ = JOKES
MODEL_DOWN = "FakeLLM: scripted failure"  # the reason FakeLLM gives when it fails


async def test_review_click_after_a_restart_still_decides(surface: Surface) -> None:
    await surface.ask("cats")
    await surface.drain()
    [card] = surface.cards()

    await surface.restart()
    answer = await surface.approve(card)
    await surface.drain()

    assert answer == ""
    [post] = surface.public_posts()
    assert JOKE1 in post
    [decided] = surface.cards()  # no second card after the restart
    assert not decided.live
    assert surface.llm.call_count == 1  # the draft was not made again


async def test_review_expiring_while_the_bot_is_down_is_closed_at_boot(surface: Surface) -> None:
    await surface.ask("cats")
    await surface.drain()

    await surface.restart(down_for=surface.options.review_timeout_s + 60)
    await surface.drain()

    [card] = surface.cards()
    assert not card.live
    assert card.status == outcome_line(ReviewAction.TIMEOUT, "")
    assert surface.public_posts() == []
    assert any(prompts.EXPIRED.format(topic="cats") in n for n in surface.notices())


@needs(Capability.OLD_CARDS_CLICKABLE)
async def test_review_click_on_a_card_that_expired_while_down_is_told_so(
    surface: Surface,
) -> None:
    await surface.ask("cats")
    await surface.drain()
    [card] = surface.cards()
    await surface.restart(down_for=surface.options.review_timeout_s + 60)
    await surface.drain()

    told = await surface.approve(card)  # a client that still shows the old card
    await surface.drain()

    assert "expired" in told.lower()
    assert surface.public_posts() == []


async def test_review_model_down_tells_everyone_then_recovers(surface: Surface) -> None:
    surface.llm.fail_next(99)

    await surface.ask("cats")
    await surface.drain()

    assert surface.cards() == []
    notice = prompts.MODEL_UNAVAILABLE.format(reason=MODEL_DOWN)
    assert any(notice in n for n in surface.notices())
    assert any(MODEL_DOWN in a for a in surface.alerts())
    assert surface.public_posts() == []

    surface.llm.fail_next(0)  # the model is back
    await surface.later(surface.options.retry_s)
    [card] = surface.cards()
    await surface.approve(card)
    await surface.drain()

    assert card.draft == JOKE1
    [post] = surface.public_posts()
    assert JOKE1 in post
