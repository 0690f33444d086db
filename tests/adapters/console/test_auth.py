"""Signing in to the console: the one-time login link, sessions, CSRF, the rate limit, rights."""

import base64
import json
from collections.abc import Mapping
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner

from adapters.console import ConsoleConfig, Identity, Rights, Role
from bot.app._console import check_binding, console_secret, is_loopback, sign_in_providers
from bot.config import load_settings
from bot.errors import ConfigError
from tests.support.console import SECRET, ConsoleHarness, console_harness

COOKIE = "jokebot_console"


def forged_cookie(secret: str, session: Mapping[str, object]) -> str:
    """A session cookie as Starlette's SessionMiddleware writes it, signed with ``secret``."""
    data = base64.b64encode(json.dumps(session).encode())
    return TimestampSigner(secret).sign(data).decode()


async def test_console_pages_send_strangers_to_sign_in(web: ConsoleHarness) -> None:
    browser = await web.browser()

    status, html = await browser.page("/")
    async with browser.http.get(web.base + "/events") as events:
        events_status = events.status

    assert status == 200  # after the redirect
    assert "Sign in" in html
    assert "local admin" not in html
    assert events_status == 401


async def test_console_login_link_signs_in_once(web: ConsoleHarness) -> None:
    token = web.console.links.issue()
    first, second = await web.browser(), await web.browser()

    await first.page(f"/login/{token}")
    ok, _ = await first.post(f"/login/{token}", {}, json=False)
    _, queue = await first.page("/")
    await second.page(f"/login/{token}")
    again, body = await second.post(f"/login/{token}", {}, json=False)

    assert ok == 303
    assert "local admin · admin" in queue
    assert again == 403
    assert "already used or expired" in body


async def test_console_login_link_expires(web: ConsoleHarness) -> None:
    token = web.console.links.issue()
    browser = await web.browser()
    await browser.page(f"/login/{token}")

    web.clock.advance(web.console.config.login_ttl_s + 1)
    status, _ = await browser.post(f"/login/{token}", {}, json=False)

    assert status == 403


async def test_console_login_is_rate_limited_per_client(web: ConsoleHarness) -> None:
    browser = await web.browser()
    await browser.page("/login")
    limit = web.console.config.login_attempts

    tries = [(await browser.post(f"/login/guess{i}", {}, json=False))[0] for i in range(limit + 2)]
    web.clock.advance(web.console.config.login_window_s)
    later, _ = await browser.post("/login/guess-later", {}, json=False)

    assert tries == [403] * limit + [429, 429]
    assert later == 403  # the window passed: a wrong token again, not a refusal


async def test_console_refuses_a_post_without_the_sessions_csrf_token(web: ConsoleHarness) -> None:
    browser = await web.signed_in()
    run_id = await web.ask("discord:1")
    token = web.token(run_id)

    missing, _ = await browser.post(
        f"/reviews/{token}/decide", {"action": "approve", "click": "c-000001"}, csrf=""
    )
    wrong, _ = await browser.post(
        f"/reviews/{token}/decide", {"action": "approve", "click": "c-000002"}, csrf="not-it"
    )
    await web.stack.drain()

    assert (missing, wrong) == (403, 403)
    assert web.discord.cards(run_id)[0].edits == []  # nothing was decided


async def test_console_ignores_a_session_cookie_signed_with_another_secret(
    web: ConsoleHarness,
) -> None:
    browser = await web.browser()
    admin = {"who": {"platform": "console", "user_id": "admin", "display": "x", "role": "admin"}}
    browser.http.cookie_jar.update_cookies({COOKIE: forged_cookie("guessed-secret", admin)})

    status, html = await browser.page("/")

    assert status == 200
    assert "Sign in" in html
    assert "admin · admin" not in html


async def test_console_session_signed_with_its_secret_is_accepted(web: ConsoleHarness) -> None:
    browser = await web.browser()  # the control for the forged-cookie test: same cookie, real key
    admin = {"who": {"platform": "console", "user_id": "admin", "display": "x", "role": "admin"}}
    browser.http.cookie_jar.update_cookies({COOKIE: forged_cookie(SECRET, admin)})

    _, html = await browser.page("/")

    assert "x · admin" in html


async def test_console_cookie_is_httponly_and_samesite_lax(web: ConsoleHarness) -> None:
    browser = await web.browser()
    async with browser.http.get(web.base + "/login") as response:
        header = response.headers.getall("Set-Cookie")[0]

    assert header.startswith(f"{COOKIE}=")
    assert "httponly" in header.lower()
    assert "samesite=lax" in header.lower()
    assert "secure" not in header.lower()  # plain http on loopback


async def test_console_cookie_is_secure_behind_tls(tmp_path: Path) -> None:
    config = ConsoleConfig(secret=SECRET, base_url="https://jokes.example", secure_cookies=True)
    async with console_harness(tmp_path, config=config) as web:
        browser = await web.browser()
        async with browser.http.get(web.base + "/login") as response:
            header = response.headers.getall("Set-Cookie")[0]

    assert "secure" in header.lower()


async def test_console_rights_are_asked_again_at_decision_time(tmp_path: Path) -> None:
    allowed = {"on": True}

    async def discord_role(who: Identity) -> bool:
        return allowed["on"]

    rights = Rights({"discord": discord_role})
    async with console_harness(tmp_path, rights=rights) as web:
        mod = Identity("discord", "m1", "dana", Role.MODERATOR)
        browser = await web.signed_in_as(mod)
        first, second = await web.ask("discord:1"), await web.ask("discord:2", "dogs")

        allowed["on"] = False  # the role was taken away after sign-in
        refused, answer = await browser.decide(web.token(first), "approve", "click-0001")
        allowed["on"] = True
        ok, _ = await browser.decide(web.token(second), "approve", "click-0002")

    assert (refused, answer["status"]) == (403, "forbidden")
    assert ok == 200


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        (Identity("console", "v", "viv", Role.VIEWER), False),
        (Identity("console", "m", "mo", Role.MODERATOR), True),
        (Identity("console", "a", "al", Role.ADMIN), True),
        (Identity("slack", "U1", "sam", Role.MODERATOR), False),  # no check for slack: no
    ],
)
async def test_console_rights_by_role_and_platform(who: Identity, expected: bool) -> None:
    assert await Rights().may_decide(who) is expected


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("localhost", True),
        ("0.0.0.0", False),  # noqa: S104
        ("10.0.0.2", False),
    ],
)
def test_console_knows_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_console_refuses_to_listen_beyond_loopback_without_secret_and_provider() -> None:
    settings = load_settings(_env_file=None)
    with_secret = load_settings(_env_file=None, console_secret="s" * 40)

    check_binding(settings, "127.0.0.1")
    with pytest.raises(ConfigError, match="CONSOLE_SECRET and a sign-in provider"):
        check_binding(settings, "0.0.0.0")  # noqa: S104
    with pytest.raises(ConfigError, match="set a sign-in provider"):
        check_binding(with_secret, "0.0.0.0")  # noqa: S104


def test_console_a_configured_sign_in_provider_counts_for_a_public_address() -> None:
    discord = {
        "console_secret": "s" * 40,
        "console_discord_client_id": "1100",
        "console_discord_client_secret": "shh",
        "console_discord_guild_id": "2200",
    }
    slack = {"console_slack_client_id": "3300", "console_slack_client_secret": "shh"}
    both = load_settings(_env_file=None, console_slack_team_id="T1", **discord, **slack)

    assert sign_in_providers(load_settings(_env_file=None)) == ()
    assert sign_in_providers(both) == ("discord", "slack")
    check_binding(load_settings(_env_file=None, **discord), "0.0.0.0")  # noqa: S104
    with pytest.raises(ConfigError, match="CONSOLE_SLACK_TEAM_ID"):
        sign_in_providers(load_settings(_env_file=None, **slack))  # half configured


def test_console_secret_is_generated_once_and_kept(tmp_path: Path) -> None:
    settings = load_settings(_env_file=None, console_secret_file=str(tmp_path / "s"))

    first = console_secret(settings)
    again = console_secret(settings)
    mode = (tmp_path / "s").stat().st_mode & 0o777
    given = console_secret(load_settings(_env_file=None, console_secret="from-env"))  # noqa: S106

    assert first == again
    assert len(first) >= 40
    assert mode == 0o600
    assert given == "from-env"
