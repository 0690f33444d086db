"""One ``jokebot serve`` process on Discord and Slack: one platform goes down and comes back.

The real process wiring (:func:`bot.app.run_serve`) runs both adapters against their fakes;
``/health/ready`` is asked over HTTP. While one platform is down (Discord's gateway closes
with 4000 and refuses reconnects; Slack's sockets drop and ``apps.connections.open`` answers
``service_unavailable``), readiness names it and only it, and a joke requested on the other
platform is still drafted, carded and approved there; once it is back, the adapter reconnects
by itself (no supervisor restart) and readiness is green again.
"""

from pathlib import Path

import pytest

from tests.support.serve_process import (
    JOKE,
    configure_guild,
    detail,
    joke_on_discord,
    joke_on_slack,
    serving,
)

pytestmark = pytest.mark.usefixtures("no_slack_env")

# discord.py backs off up to 2**n s (random) between refused reconnects, slack_sdk retries
# every 10 s (its ping interval): generous bounds, on a loaded machine too.
RECOVERY_S = 60.0


async def test_serve_discord_down_and_back_while_slack_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serving(tmp_path, monkeypatch) as up:
        before = await up.readiness()
        await up.discord.gateway.go_down()
        down = await up.until(503, ["surface:discord"], timeout=10)
        published = await joke_on_slack(up.slack, "cats")
        still_down = await up.readiness()
        up.discord.gateway.come_back()
        back = await up.until(200, [], timeout=RECOVERY_S)

    assert before[0] == 200
    assert "gateway READY" in detail(before[1], "surface:discord")
    assert "hello on the socket" in detail(before[1], "surface:slack")
    assert detail(down, "surface:discord") == (
        "running but not connected (gateway disconnected, reconnecting)"
    )
    assert published.startswith(JOKE)  # "… — requested by <@UREQ>, about “cats”"
    assert still_down[0] == 503  # refused all along: Slack served without it
    assert up.discord.gateway.refused >= 1
    assert up.discord.gateway.resumes >= 1  # the same session, resumed: no new process
    assert detail(back, "surface:discord") == "running and connected (gateway RESUMED)"


async def test_serve_slack_down_and_back_while_discord_serves(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serving(tmp_path, monkeypatch) as up:
        await configure_guild(up.discord)
        opened = up.slack.connections_opened
        await up.slack.go_down()
        down = await up.until(503, ["surface:slack"], timeout=10)
        published = await joke_on_discord(up.discord, "dogs")
        still_down = await up.readiness()
        up.slack.come_back()
        back = await up.until(200, [], timeout=RECOVERY_S)
        sockets = up.slack.sockets

    assert detail(down, "surface:slack") == (
        "running but not connected (socket closed, reconnecting)"
    )
    assert published == JOKE
    assert still_down[0] == 503
    assert up.slack.connections_opened > opened  # a new socket URL after the outage
    assert sockets == 1
    assert detail(back, "surface:slack") == "running and connected (hello on the socket)"
