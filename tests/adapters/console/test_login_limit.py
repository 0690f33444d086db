"""Sign-in is rate limited per client address (``LoginLimiter`` and the routes)."""

import pytest

from adapters.console._ratelimit import LoginLimiter
from tests.support.clock import FakeClock
from tests.support.signin import signin_world


def test_login_limiter_allows_the_limit_then_says_how_long_to_wait() -> None:
    clock = FakeClock()
    limiter = LoginLimiter(3, 60.0, now=clock.now)

    answers = [limiter.hit("a") for _ in range(3)]
    clock.advance(20)
    blocked = limiter.hit("a")
    other = limiter.hit("b")

    assert answers == [None, None, None]
    assert blocked == pytest.approx(40.0)
    assert other is None


def test_login_limiter_window_slides() -> None:
    clock = FakeClock()
    limiter = LoginLimiter(2, 60.0, now=clock.now)
    limiter.hit("a")
    clock.advance(30)
    limiter.hit("a")

    clock.advance(30)  # the first hit has left the window, the second has not
    first = limiter.hit("a")
    second = limiter.hit("a")

    assert first is None
    assert second == pytest.approx(30.0)


def test_login_limiter_forgets_the_oldest_address_past_max_keys() -> None:
    clock = FakeClock()
    limiter = LoginLimiter(1, 60.0, now=clock.now, max_keys=2)
    limiter.hit("a")
    limiter.hit("b")
    limiter.hit("c")  # "a" is forgotten

    assert limiter.hit("a") is None
    assert limiter.hit("c") is not None


@pytest.mark.parametrize(("limit", "window"), [(0, 60.0), (1, 0.0)])
def test_login_limiter_refuses_a_useless_setting(limit: int, window: float) -> None:
    with pytest.raises(ValueError, match="limit"):
        LoginLimiter(limit, window)


async def test_login_routes_answer_429_past_the_limit_per_address() -> None:
    async with signin_world(login_limit=3, login_window_s=60.0) as world:
        answers = [(await world.browser.start("discord")).status_code for _ in range(3)]
        blocked = await world.browser.start("discord")
        callback = await world.browser.console.get("/login/discord/callback?code=x&state=y")
        elsewhere = await world.browser_at("10.0.0.2").start("discord")
        world.clock.advance(60)
        later = await world.browser.start("discord")

        assert answers == [302, 302, 302]
        assert blocked.status_code == 429
        assert blocked.headers["retry-after"] == "60"
        assert callback.status_code == 429  # callbacks count too: no code guessing
        assert elsewhere.status_code == 302
        assert later.status_code == 302
