"""One ``jokebot serve`` process: a Discord request reviewed on Slack, the requester named.

The Discord server is linked to the Slack moderators' channel with the link codes people use
(``/jokelink`` on Discord, ``/joke link CODE`` on Slack); a ``/joke`` typed on Discord then
gets a card on both platforms. The Slack card names the requester by their Discord display
name and platform, as text (no mention); approving it on Slack posts the joke once on Discord
and edits the Discord card ("via Slack").
"""

import re
from pathlib import Path

import pytest

from adapters.slack_adapter._render import DRAFT_BLOCK
from tests.support.fake_discord import (
    ADMIN,
    ALICE,
    MOD_CHANNEL,
    PUBLIC_CHANNEL,
    button_ids,
    slash,
)
from tests.support.fake_slack import FakeSlack, Message
from tests.support.serve_process import JOKE, configure_guild, serving
from tests.support.slack_harness import MOD as SLACK_MOD, snapshot
from tests.support.slack_payloads import click_payload, command_fields, new_trigger

pytestmark = pytest.mark.usefixtures("no_slack_env")


def slack_cards(slack: FakeSlack) -> list[Message]:
    return [
        m for m in slack.messages("CMOD") if any(b.get("block_id") == DRAFT_BLOCK for b in m.blocks)
    ]


async def test_serve_discord_request_is_reviewed_on_slack_by_name_and_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with serving(tmp_path, monkeypatch) as up:
        discord, slack = up.discord, up.slack
        await configure_guild(discord)
        iid = await discord.interact(slash("jokelink", {}, user=ADMIN))
        told = await discord.wait_for_path("POST", rf"/interactions/{iid}/[^/]+/callback")
        [code] = set(re.findall(r"\b[A-Z0-9]{4}-[A-Z0-9]{4}\b", str(told.body["data"]["content"])))
        fields = command_fields(
            f"link {code}",
            user=SLACK_MOD,
            channel="CMOD",
            trigger=new_trigger(),
            response_url=slack.webhook_url("link"),
        )
        linked = await slack.wait_ack(await slack.push_envelope("slash_commands", fields))

        await discord.interact(slash("joke", {"topic": "cats"}, user=ALICE))
        await slack.wait_until(lambda: bool(slack_cards(slack)), 20)
        await discord.wait_for_path("POST", rf"/channels/{MOD_CHANNEL}/messages", timeout=10)
        [card] = slack_cards(slack)
        approve = click_payload(
            snapshot(card),
            "CMOD",
            "approve",
            user=SLACK_MOD,
            trigger=new_trigger(),
            response_url=slack.webhook_url("click"),
        )
        await slack.wait_ack(await slack.push_envelope("interactive", approve))
        await discord.wait_for_path("POST", rf"/channels/{PUBLIC_CHANNEL}/messages", timeout=10)
        [posted] = [m for m in discord.messages(MOD_CHANNEL) if m["embeds"]]
        edit = rf"/channels/{MOD_CHANNEL}/messages/{posted['id']}"
        await discord.wait_for_path("PATCH", edit, timeout=10)
        discord_card = discord.message(posted["id"])

    assert "now reviewed in this channel" in linked["payload"]["text"]
    head = card.blocks[0]["text"]["text"]
    assert head.endswith("requested by Alice (Discord)")  # a name and a platform, no <@…>
    requested = {f["name"]: f["value"] for f in discord_card["embeds"][0]["fields"]}
    assert requested["Requested by"] == "Alice"  # on its own platform: the display name
    [post] = discord.messages(PUBLIC_CHANNEL)
    assert post["embeds"][0]["description"] == JOKE
    assert not button_ids(discord_card)
    assert discord_card["content"] == "✅ Approved by umod via Slack"  # her name, not <@UMOD>
