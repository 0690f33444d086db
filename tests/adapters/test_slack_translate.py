import asyncio
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from adapters._review import EDIT_FORM, REASON_FORM, button_id
from adapters.slack_adapter._buttons import (
    ACTIONS_BLOCK,
    EDIT_ACTION,
    EDIT_BLOCK,
    REASON_ACTION,
    REASON_BLOCK,
)
from adapters.slack_adapter._inbound import to_click, to_command, to_submission
from adapters.slack_adapter._markup import escape
from adapters.slack_adapter._moderators import Moderators
from adapters.slack_adapter._render import (
    card_blocks,
    decided_blocks,
    draft_from_blocks,
    form_modal,
)
from bot.errors import BadRequest
from bot.review import Card
from tests.support.fake_slack import BOT_TOKEN, FakeSlack
from tests.support.slack_payloads import click_payload, command_fields, submission_payload

WAIT = "tok9"
CARD: Card = {
    "topic": "cats",
    "draft": "A <b> & joke",
    "attempt": 1,
    "max_attempts": 3,
    "model_label": "m",
    "requester": "<@U1>",
}


def test_to_command_reads_the_form_fields() -> None:
    fields = command_fields(
        "  cats  ", user="U1", channel="C9", trigger="T1", response_url="http://x/1"
    )

    command = to_command(fields)

    assert (command.team_id, command.user_id, command.channel_id) == ("T0TEAM", "U1", "C9")
    assert (command.trigger_id, command.topic, command.response_url) == ("T1", "cats", "http://x/1")
    assert command.user_name == "u1"  # Slack's user_name field: a plain name for other platforms


def test_to_command_decodes_the_entities_slack_sends() -> None:
    # Slack's composer sends & < > as &amp; &lt; &gt; (command_fields does the same).
    fields = command_fields("Tom & Jerry <3 &amp; more", trigger="T1", response_url="http://x/1")
    assert fields["text"] == "Tom &amp; Jerry &lt;3 &amp;amp; more"

    assert to_command(fields).topic == "Tom & Jerry <3 &amp; more"


@pytest.mark.parametrize("missing", ["team_id", "user_id", "trigger_id", "channel_id"])
def test_to_command_refuses_a_body_without_ids(missing: str) -> None:
    fields: dict[str, Any] = command_fields("cats", trigger="T1", response_url="http://x/1")
    del fields[missing]

    with pytest.raises(BadRequest, match=missing):
        to_command(fields)


def card_message() -> dict[str, Any]:
    return {"ts": "17.1", "text": "t", "blocks": card_blocks(CARD, token=WAIT)}


def test_to_click_takes_the_token_from_the_button_value() -> None:
    payload = click_payload(
        card_message(), "CMOD", "reject", user="U2", trigger="T7", response_url="http://x/2"
    )

    click = to_click(payload)

    assert (click.token, click.action, click.user_id, click.team_id) == (
        "tok9",
        "reject",
        "U2",
        "T0TEAM",
    )
    assert (click.channel_id, click.message_ts, click.response_url) == (
        "CMOD",
        "17.1",
        "http://x/2",
    )
    assert click.interaction_id.startswith("T7:U2:")
    assert draft_from_blocks(click.blocks) == CARD["draft"]


@pytest.mark.parametrize(
    "value", ["", "jk:v1:tok:approve:extra", "other:v1:tok:approve", "jk:v1:to-k:approve"]
)
def test_to_click_refuses_values_that_are_not_ours(value: str) -> None:
    payload = click_payload(
        card_message(), "CMOD", "approve", user="U2", trigger="T7", response_url="u", value=value
    )

    with pytest.raises(BadRequest):
        to_click(payload)


def test_to_submission_reads_the_token_and_the_text() -> None:
    view = {**form_modal(EDIT_FORM, "tok9", "draft"), "id": "V1", "hash": "h"}
    payload = submission_payload(view, user="U3", values={EDIT_BLOCK: {EDIT_ACTION: "new"}})

    sub = to_submission(payload)

    assert (sub.token, sub.user_id, sub.text) == ("tok9", "U3", "new")
    assert sub.interaction_id == f"view:V1:{payload['trigger_id']}"


def test_each_submit_of_one_modal_is_its_own_interaction() -> None:
    view = {**form_modal(EDIT_FORM, "tok9", "draft"), "id": "V1", "hash": "h"}
    first = submission_payload(view, user="U3", values={EDIT_BLOCK: {EDIT_ACTION: "new"}})
    again = submission_payload(view, user="U3", values={EDIT_BLOCK: {EDIT_ACTION: "new"}})

    assert to_submission(first).interaction_id != to_submission(again).interaction_id
    assert to_submission(first).interaction_id == to_submission(dict(first)).interaction_id


def test_a_submit_without_trigger_is_keyed_by_its_values() -> None:
    view = {**form_modal(EDIT_FORM, "tok9", "draft"), "id": "V1", "hash": "h"}
    one = submission_payload(view, user="U3", values={EDIT_BLOCK: {EDIT_ACTION: "one"}})
    two = submission_payload(view, user="U3", values={EDIT_BLOCK: {EDIT_ACTION: "two"}})
    for payload in (one, two):
        del payload["trigger_id"]

    assert to_submission(one).interaction_id != to_submission(two).interaction_id


def test_to_submission_of_a_reason_modal_reads_the_reason() -> None:
    view = {**form_modal(REASON_FORM, "tok9"), "id": "V2"}
    sub = to_submission(
        submission_payload(view, user="U3", values={REASON_BLOCK: {REASON_ACTION: "meh"}})
    )

    assert sub.text == "meh"


def test_to_submission_refuses_a_tampered_token() -> None:
    view = {**form_modal(EDIT_FORM, "tok9", "d"), "private_metadata": "../tok"}

    with pytest.raises(BadRequest):
        to_submission(submission_payload(view, user="U3", values={}))


def test_buttons_carry_only_the_token() -> None:
    (actions,) = [b for b in card_blocks(CARD, token=WAIT) if b["type"] == "actions"]

    values = [e["value"] for e in actions["elements"]]

    assert values == [button_id("tok9", a) for a in ("approve", "reject", "reason", "edit")]
    assert all(len(e["action_id"]) <= 255 and len(e["value"]) <= 2000 for e in actions["elements"])


def test_decided_blocks_drop_buttons_and_replace_the_status() -> None:
    once = decided_blocks(card_blocks(CARD, token=WAIT), "first")

    twice = decided_blocks(once, "second")

    assert [b["block_id"] for b in twice if b["type"] == "actions"] == []
    assert [b for b in twice if b.get("block_id") == ACTIONS_BLOCK] == []
    assert twice[-1]["elements"][0]["text"] == "second"
    assert len(twice) == len(once)


def test_draft_is_shown_verbatim_and_topic_escaped() -> None:
    blocks = card_blocks({**CARD, "topic": "<@U9> & <!here>"}, token=None)

    assert draft_from_blocks(blocks) == "A <b> & joke"
    assert "<!here>" not in blocks[0]["text"]["text"]
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_modals_carry_only_the_token() -> None:
    edit, reject = form_modal(EDIT_FORM, "tok9", "draft"), form_modal(REASON_FORM, "tok9")

    assert edit["private_metadata"] == reject["private_metadata"] == "tok9"
    assert edit["blocks"][0]["element"]["initial_value"] == "draft"
    assert "initial_value" not in form_modal(EDIT_FORM, "tok9", "")["blocks"][0]["element"]
    assert len(edit["title"]["text"]) <= 24
    assert len(reject["title"]["text"]) <= 24
    assert "optional" not in reject["blocks"][0]  # plain Reject is the button without a reason


class Ticking:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_moderators_from_ids_need_no_lookup() -> None:
    async with FakeSlack() as fake:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.base_url)
        mods = Moderators(client, ["U1"])

        assert mods.known("U1") is True
        assert mods.known("U2") is False
        assert await mods.check("U2") is False
        assert fake.calls == []


async def test_moderator_group_is_cached_then_refreshed() -> None:
    clock = Ticking()
    async with FakeSlack(usergroups={"S1": ["U5"]}) as fake:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.base_url)
        mods = Moderators(client, [], "S1", ttl_s=60, monotonic=clock)

        assert mods.known("U5") is None
        assert await mods.check("U5") is True
        assert mods.known("U6") is False
        fake.usergroups["S1"] = ["U6"]
        clock.now = 61
        assert await mods.check("U6") is True
        assert await mods.check("U5") is False

    assert len(fake.calls_to("usergroups.users.list")) == 2


async def test_moderator_group_lookup_failure_fails_closed() -> None:
    async with FakeSlack() as fake:  # no such group
        client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.base_url)
        mods = Moderators(client, [], "S404")

        assert await mods.check("U5") is False
        assert await mods.check("U5") is False

    assert len(fake.calls_to("usergroups.users.list")) == 1  # not hammered


async def test_check_within_gives_up_but_the_lookup_fills_the_cache() -> None:
    async with FakeSlack(usergroups={"S1": ["U5"]}) as fake:
        client = AsyncWebClient(token=BOT_TOKEN, base_url=fake.base_url)
        mods = Moderators(client, [], "S1")

        assert await mods.check_within("U5", 0.0) is None
        await fake.wait_for("usergroups.users.list")
        for _ in range(100):
            if mods.known("U5") is not None:
                break
            await asyncio.sleep(0.01)

        assert mods.known("U5") is True
        assert await mods.check_within("U5", 0.0) is True
