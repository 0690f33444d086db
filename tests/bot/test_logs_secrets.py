"""No log line ever holds a token, secret or API key: a scripted run at DEBUG, both formats.

The capture has no redacting filter: this proves nothing is logged in the first place (the
filter is defence in depth, tested in test_logs.py). Settings hold recognisable secrets, the
wiring builds the LLM from them, and the run goes through refusals, an LLM failure, a
platform outage, a sender bug, a forbidden click, a reject and an approval.
"""

import asyncio
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import describe, make_llm, open_core, options_from, plan_surfaces
from bot.config import Settings, load_settings
from bot.models import Actor, JokeRequest, Origin, OutboxEffect, ScopeConfig
from bot.ports import LLM
from tests.support.clock import FakeClock
from tests.support.llm import FakeLLM
from tests.support.llm_server import FakeOpenAIServer, completion, error
from tests.support.logs import captured
from tests.support.platform import FakePlatform

SECRETS = {
    "DISCORD_TOKEN": "MTAwMDAwMDAwMDAwMDAwMDAw.Gsecre.discord-never-logged-0123456789",
    "SLACK_BOT_TOKEN": "xoxb-9999-slack-bot-never-logged",
    "SLACK_APP_TOKEN": "xapp-1-slack-app-never-logged",
    "SLACK_SIGNING_SECRET": "signing-secret-never-logged-42",
    "OPENAI_API_KEY": "sk-openai-never-logged-4242",
}
MARK = "never-logged"  # in every secret: catches a partial leak too
log = logging.getLogger("tests.secrets")
REQUESTER = Actor("fake", "u1", "@ann")
MOD = Actor("fake", "m1", "@mod", is_moderator=True)


class BuggySender(FakePlatform):
    """A FakePlatform whose first send raises an unexpected error (logged with a traceback)."""

    bugs = 1

    async def send(self, effect: OutboxEffect) -> str:
        if self.bugs:
            self.bugs -= 1
            raise RuntimeError("sender bug")
        return await super().send(effect)


async def scenario(settings: Settings, kind: str, server: FakeOpenAIServer, db: Path) -> None:
    if kind == "fake":
        await flow(settings, FakeLLM("Why? Because.", "What? That.", fail_times=1), db)
        return
    server.script(error(401, "Incorrect API key provided"), completion("Why? Because."))
    server.script(completion("What do keys say? Nothing, they are secret."))
    llm = make_llm(settings).llm  # the real client, holding the key
    try:
        await flow(settings, llm, db)
    finally:
        await llm.close()


async def flow(settings: Settings, llm: LLM, db: Path) -> None:
    for line in describe(plan_surfaces(settings)):
        log.info("%s", line)
    log.debug("settings: %r", settings)  # even a careless repr masks SecretStr
    clock = FakeClock()
    options = replace(options_from(settings), cooldown_s=0.0)
    async with open_core(
        database_url=f"sqlite:///{db}", llm=llm, clock=clock, options=options
    ) as core:
        platform = BuggySender(clock)
        platform.outage(1, kind="notify")
        core.register_sender("fake", platform)
        await core.service.save_scope(ScopeConfig("fake", "g1", "mods", "fun"))
        unset = Origin("fake", "nowhere", REQUESTER, "", "")
        await core.service.request_joke(JokeRequest("fake:0", unset, "cats"))
        origin = Origin("fake", "g1", REQUESTER, "", "", "general")
        result = await core.service.request_joke(JokeRequest("fake:1", origin, "cats"))
        assert result.run_id is not None
        for _ in range(4):  # the LLM fails once, the run retries on its timer
            await core.runtime.drain()
            clock.advance(120)
        token = platform.latest_token(result.run_id)
        assert token is not None, platform.messages
        await platform.click(
            core.service.decide, token, "approve", replace(MOD, is_moderator=False)
        )
        await platform.click(core.service.decide, token, "reject", MOD, data={"reason": "meh"})
        await core.runtime.drain()
        second = platform.latest_token(result.run_id)
        assert second is not None
        await platform.click(core.service.decide, second, "approve", MOD)
        await core.runtime.drain()
        clock.advance(600)
        await core.runtime.drain()
        assert platform.public_posts(result.run_id)


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("kind", ["fake", "openai"])
def test_logs_never_contain_a_secret(
    fmt: str, kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    with FakeOpenAIServer() as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
        settings = load_settings(_env_file=None, log_level="DEBUG")
        with captured("json" if fmt == "json" else "text") as out:
            asyncio.run(scenario(settings, kind, server, tmp_path / "j.db"))

    assert any(line.endswith("settings: Settings(") or "settings: " in line for line in out.lines)
    assert len(out.lines) >= 5  # start-up lines, the settings, the traceback below
    assert any("fake:1" in line and "sender bug" in line for line in out.lines)  # traceback, run_id
    assert set(SECRETS.values()) == set(settings.secret_values())
    leaks = [line for line in out.lines if MARK in line or any(s in line for s in SECRETS.values())]
    assert not leaks, "\n".join(leaks)
