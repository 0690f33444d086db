"""``jokebot doctor``'s Discord check against the fake, with the faults seeded."""

from collections.abc import AsyncIterator

import pytest

from adapters.discord_adapter import DiscordCheck
from bot.models import Level, ScopeConfig
from tests.support.fake_discord import (
    BOT_ID,
    CONFIGURED,
    EMBED,
    GUILD_ID,
    MOD_CHANNEL,
    READ_HISTORY,
    TOKEN,
    FakeDiscord,
    serve_fake,
)

FAST = {"guild_ready_timeout": 0.05}


@pytest.fixture
async def fake(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with serve_fake() as served:
        served.patch(monkeypatch)
        yield served


def check(*scopes: ScopeConfig) -> DiscordCheck:
    return DiscordCheck(TOKEN, scopes, ready_timeout_s=5.0, client_options=FAST)


async def test_discord_doctor_all_good(fake: FakeDiscord) -> None:
    found = await check(CONFIGURED).check()

    assert [f.level for f in found] == [Level.OK] * 3
    assert "permissions ok" in found[1].message


async def test_discord_doctor_names_the_missing_permission_and_the_invite(
    fake: FakeDiscord,
) -> None:
    await fake.set_overwrite(MOD_CHANNEL, BOT_ID, deny=EMBED | READ_HISTORY)

    found = await check(CONFIGURED).check()

    errors = [f for f in found if f.level is Level.ERROR]
    assert len(errors) == 1
    assert "moderator channel" in errors[0].message
    assert "lacks Embed Links, Read Message History" in errors[0].message
    assert "allow Embed Links, Read Message History for jokebot in #" in errors[0].fix
    assert "permissions=274877991936" in errors[0].fix
    assert "scope=bot+applications.commands" in errors[0].fix


async def test_discord_doctor_refused_token(fake: FakeDiscord) -> None:
    fake.fail("GET", "/users/@me", status=401, body={"message": "401: Unauthorized", "code": 0})

    found = await check(CONFIGURED).check()

    assert [(f.level, f.message) for f in found] == [(Level.ERROR, "DISCORD_TOKEN was refused")]
    assert "Reset Token" in found[0].fix


async def test_discord_doctor_unknown_guild_and_no_guild(fake: FakeDiscord) -> None:
    elsewhere = ScopeConfig("discord", "42", "1", "2", "3")

    gone = await check(elsewhere).check()
    none = await check().check()

    assert gone[-1].level is Level.ERROR
    assert "not in server 42" in gone[-1].message
    assert "oauth2/authorize" in gone[-1].fix
    assert none[-1].level is Level.WARN
    assert "/jokeconfig" in none[-1].fix


async def test_discord_doctor_fix_resyncs_the_commands(fake: FakeDiscord) -> None:
    done = await DiscordCheck(TOKEN, [CONFIGURED], guild_id=GUILD_ID).fix()

    assert [f.level for f in done] == [Level.OK]
    assert "/joke, /jokeconfig, /jokelink" in done[0].message
    assert any(c.method == "PUT" and c.path.endswith("/commands") for c in fake.calls)
