"""``jokebot doctor`` through the wiring and the CLI: every area at once, against the fakes."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import app
from bot.cli import main
from bot.config import Settings, load_settings
from bot.store import open_store
from tests.support.fake_discord import BOT_ID, CONFIGURED, EMBED, MOD_CHANNEL, TOKEN, serve_fake
from tests.support.fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.support.fake_slack_rules import manifest_scopes
from tests.support.llm_server import FakeOpenAIServer


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No real platform or LLM setting leaks in."""
    for name in list(os.environ):
        if name.startswith(("DISCORD_", "SLACK_", "OPENAI_", "LLM_", "DATABASE_", "HEALTH_")):
            monkeypatch.delenv(name)


@pytest.fixture
def llm() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as server:
        yield server


def settings_for(db: Path, llm: FakeOpenAIServer, **more: object) -> Settings:
    return load_settings(
        _env_file=None,
        database_url=f"sqlite:///{db}",
        llm_provider="openai",
        openai_api_key="sk-test",
        openai_base_url=llm.base_url,
        **more,
    )


async def test_doctor_every_area_with_faults_seeded_then_fix(
    tmp_path: Path,
    llm: FakeOpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "jokebot.db"
    store = await open_store(f"sqlite:///{db}")
    await store.save_scope(CONFIGURED)
    await store.close()
    async with serve_fake() as discord, FakeSlack(scopes=manifest_scopes() - {"im:write"}) as slack:
        discord.patch(monkeypatch)  # use_endpoints sets the same attributes; restored after
        await discord.set_overwrite(MOD_CHANNEL, BOT_ID, deny=EMBED)
        settings = settings_for(
            db,
            llm,
            discord_token=TOKEN,
            discord_api_base=f"http://127.0.0.1:{discord.port}/api/v10",
            discord_gateway_url=f"ws://127.0.0.1:{discord.port}/gateway",
            slack_bot_token=BOT_TOKEN,
            slack_app_token=APP_TOKEN,
            slack_mod_channel="CMOD",
            slack_public_channel="CPUB",
            slack_api_base=slack.base_url,
        )

        status = await app.doctor(settings, fix=True)

    out = capsys.readouterr().out.splitlines()
    assert status == 1
    assert out[0] == "[ok] config: surfaces: Discord, Slack"
    assert any(line.startswith("[ok] store: schema v") for line in out)
    assert any(line.startswith("[ok] llm: ") and "answered" in line for line in out)
    assert any(line.startswith("[ok] discord: re-synced /joke") for line in out)
    perm = [line for line in out if line.startswith("[error] discord:")]
    assert len(perm) == 1
    assert "lacks Embed Links" in perm[0]
    assert "oauth2/authorize" in perm[0]
    scope = [line for line in out if line.startswith("[error] slack:")]
    assert len(scope) == 1
    assert "lacks im:write" in scope[0]
    assert out[-1] == "2 error(s), 0 warning(s)."
    store = await open_store(f"sqlite:///{db}")
    async with store.read() as tx:
        audit = [(a.actor, a.event, a.data["area"]) for a in await tx.audit()]
    await store.close()
    assert audit == [("system:doctor", "doctor.repair", "discord")]


def test_cli_doctor_without_platforms_exits_0(
    tmp_path: Path,
    llm: FakeOpenAIServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    for key, value in {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'jokebot.db'}",
        "LLM_PROVIDER": "openai",
        "OPENAI_API_KEY": "sk-test",
        "OPENAI_BASE_URL": llm.base_url,
    }.items():
        monkeypatch.setenv(key, value)

    status = main(["doctor"])
    refused = main(["doctor", "--yes-not-posted", "r1:1:0"])

    out, err = capsys.readouterr()
    assert status == 0
    assert "[warn] config: no platform configured" in out
    assert out.splitlines()[-1] == "0 error(s), 1 warning(s)."
    assert refused == 2
    assert "--yes-not-posted needs --fix" in err
