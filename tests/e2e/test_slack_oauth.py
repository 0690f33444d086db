"""Slack multi-workspace mode end to end: the OAuth install through Bolt's flow, requests and
effects with each workspace's own token, and token expiry → refresh, against FakeSlack."""

import json
import time
from pathlib import Path

import pytest

from bot.models import Installation
from tests.support.clock import FakeClock
from tests.support.fake_slack_oauth import TOKEN_TTL_S
from tests.support.slack_harness import settle
from tests.support.slack_oauth import ONE, TWO, multi_slack

pytestmark = pytest.mark.usefixtures("no_slack_env")


def tokens_used(calls: list[str], fake_calls: list[object]) -> None: ...


async def test_install_through_bolt_stores_the_workspace_and_its_rotating_token(
    tmp_path: Path,
) -> None:
    clock = FakeClock(time.time())  # Bolt dates a new token's expiry by the real clock
    async with multi_slack(tmp_path, clock) as slack:
        status, text = await slack.install(ONE)
        found = await slack.installs.find_installation("", "T1")

    assert status == 200, text
    assert found is not None
    assert found.bot_token.startswith("xoxe.xoxb-1-T1-")
    assert found.refresh_token.startswith("xoxe-1-T1-")
    assert (found.bot_user_id, found.bot_id, found.installer_id) == ("U1BOT", "B1BOT", "U0ADMIN")
    assert found.expires_at == pytest.approx(time.time() + TOKEN_TTL_S, abs=5)
    assert set(found.scopes.split(",")) >= {"commands", "chat:write"}
    assert slack.fake.oauth.exchanges == ["authorization_code"]
