"""Token rotation across processes: two bots on one database refresh the same workspace's
token at once, and exactly one ``oauth.v2.access`` refresh reaches the fake Slack.

The refresh token is single-use (the fake revokes it on exchange, as Slack does), so a second
exchange would fail with ``invalid_refresh_token`` and leave that process with a token that
dies at the 12-hour mark. Run on SQLite (one file) and on PostgreSQL.
"""

import asyncio
import os
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter._workspaces import Workspaces
from bot.models import Installation
from bot.store import open_store
from bot.store.installations import StoreInstallations
from tests.support.clock import FakeClock
from tests.support.fake_slack import FakeSlack
from tests.support.fake_slack_oauth import CLIENT_ID, CLIENT_SECRET
from tests.support.fake_slack_rules import manifest_scopes
from tests.support.postgres import scratch_schema
from tests.support.slack_oauth import ONE

REPO = Path(__file__).resolve().parents[2]
EXCHANGE_S = 0.5  # how long the fake takes to answer a refresh: the racers overlap in it


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database both processes open: a SQLite file, or a scratch PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.db'}"
        return
    async with scratch_schema() as url:
        yield url


async def installed(fake: FakeSlack, url: str, expires_in_s: float) -> Installation:
    """Workspace ONE installed with a token the fake issued, expiring in ``expires_in_s``."""
    fake.oauth.add_workspace(ONE)
    token, refresh = fake.oauth.issue(ONE, manifest_scopes())
    fake.oauth.grants[token].expires_at = fake.clock.now() + expires_in_s
    installation = Installation(
        "", "T1", token, "B1BOT", "U1BOT", "commands", refresh, time.time() + expires_in_s
    )
    store = await open_store(url)
    try:
        await StoreInstallations(store).save_installation(installation)
    finally:
        await store.close()
    return installation


def workspaces(
    store_url_store: StoreInstallations, fake: FakeSlack, clock: FakeClock
) -> Workspaces:
    return Workspaces(
        store_url_store,
        AsyncWebClient(base_url=fake.base_url),
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        clock=clock,
    )


async def test_two_stores_refreshing_at_once_exchange_once(db_url: str) -> None:
    clock = FakeClock(time.time())
    async with FakeSlack(channels={}, clock=clock) as fake:
        old = await installed(fake, db_url, expires_in_s=3600)  # due: within the 2-hour margin
        fake.delays["oauth.v2.access"] = EXCHANGE_S
        first, second = await open_store(db_url), await open_store(db_url)
        try:
            racers = [workspaces(StoreInstallations(s), fake, clock) for s in (first, second)]
            tokens = await asyncio.gather(*(w.token("T1") for w in racers))
            stored = await StoreInstallations(first).find_installation("", "T1")
        finally:
            await first.close()
            await second.close()

        assert len(fake.calls_to("oauth.v2.access")) == 1
        assert fake.oauth.exchanges == ["refresh_token"]
        assert stored is not None
        assert stored.bot_token != old.bot_token
        assert tokens == [stored.bot_token, stored.bot_token]
        assert fake.oauth.token_error(stored.bot_token) is None
        assert stored.refresh_token in fake.oauth.refresh_tokens  # the new one is the live one


async def run_child(url: str, fake: FakeSlack, log: Path) -> asyncio.subprocess.Process:
    with log.open("wb") as err:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.rotation_child",
            url,
            fake.base_url,
            "T1",
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
        )
    assert child.stdout is not None
    ready = await asyncio.wait_for(child.stdout.readline(), 60)
    assert ready == b"ready\n", f"child did not start: {ready!r} {log.read_text()[-2000:]}"
    return child


async def test_two_processes_refreshing_at_once_exchange_once(db_url: str, tmp_path: Path) -> None:
    async with FakeSlack(channels={}, clock=FakeClock(time.time())) as fake:
        old = await installed(fake, db_url, expires_in_s=3600)
        fake.delays["oauth.v2.access"] = EXCHANGE_S
        children = [await run_child(db_url, fake, tmp_path / f"child{i}.log") for i in (1, 2)]
        try:
            for child in children:  # both go at once
                assert child.stdin is not None
                child.stdin.write(b"go\n")
                await child.stdin.drain()
            outputs = [await asyncio.wait_for(c.communicate(), 60) for c in children]
        finally:
            for child in children:
                if child.returncode is None:
                    child.kill()
                    await child.wait()
        store = await open_store(db_url)
        try:
            stored = await StoreInstallations(store).find_installation("", "T1")
        finally:
            await store.close()

    logs = [(tmp_path / f"child{i}.log").read_text() for i in (1, 2)]
    assert [c.returncode for c in children] == [0, 0], logs
    assert len(fake.calls_to("oauth.v2.access")) == 1
    assert stored is not None
    assert stored.bot_token != old.bot_token
    for out, _ in outputs:
        token, team = out.decode().split()
        assert (token, team) == (stored.bot_token, "T1")  # both use the new, working token
