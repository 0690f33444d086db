"""The fake Slack itself keeps Slack's documented rules (so adapter tests can rely on them)."""

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.support.clock import FakeClock
from tests.support.fake_slack import BOT_TOKEN, FakeSlack
from tests.support.fake_slack_rules import manifest_scopes

METADATA = {"event_type": "jokebot_effect", "event_payload": {"effect_id": "e1"}}


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    channels = {"CMOD": "mods", "CPUB": "jokes", "CGEN": "general", "GPRIV": "secret"}
    async with FakeSlack(channels, usergroups={"S1": ["U1"]}, seed=7) as slack:
        yield slack


async def call(http: aiohttp.ClientSession, fake: FakeSlack, method: str, **params: Any) -> Any:
    """A Web API call as slack_sdk makes it (JSON body, bearer token); the raw answer."""
    headers = {"Authorization": f"Bearer {BOT_TOKEN}"}
    async with http.post(f"{fake.base_url}{method}", json=params, headers=headers) as resp:
        return await resp.json()


async def post(http: aiohttp.ClientSession, fake: FakeSlack, channel: str, **params: Any) -> Any:
    return await call(http, fake, "chat.postMessage", channel=channel, **params)


# -- conversations.history ------------------------------------------------------------


async def test_history_pages_back_with_cursors_and_short_pages(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    fake.chatter("CPUB", 500)
    seen: list[str] = []
    sizes: list[int] = []
    cursor = ""
    while True:
        page = await call(
            http, fake, "conversations.history", channel="CPUB", limit=100, cursor=cursor
        )
        seen += [m["ts"] for m in page["messages"]]
        sizes.append(len(page["messages"]))
        cursor = page["response_metadata"]["next_cursor"]
        assert page["has_more"] is bool(cursor)
        if not page["has_more"]:
            break

    assert seen == sorted(seen, reverse=True)  # newest first, no gaps, no repeats
    assert len(set(seen)) == 500
    assert any(size < 100 for size in sizes[:-1])  # a short page before the end


async def test_history_oldest_latest_and_inclusive(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    fake.chatter("CPUB", 5)
    ts = [m.ts for m in fake.messages("CPUB")]
    fake.short_pages = False

    between = await call(
        http, fake, "conversations.history", channel="CPUB", oldest=ts[1], latest=ts[3]
    )
    inclusive = await call(
        http,
        fake,
        "conversations.history",
        channel="CPUB",
        oldest=ts[1],
        latest=ts[3],
        inclusive=True,
    )

    assert [m["ts"] for m in between["messages"]] == [ts[2]]
    assert [m["ts"] for m in inclusive["messages"]] == [ts[3], ts[2], ts[1]]


async def test_history_metadata_only_when_asked(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    await post(http, fake, "CPUB", text="hi", metadata=METADATA)

    plain = await call(http, fake, "conversations.history", channel="CPUB")
    full = await call(
        http, fake, "conversations.history", channel="CPUB", include_all_metadata=True
    )

    assert "metadata" not in plain["messages"][0]
    assert full["messages"][0]["metadata"] == METADATA


async def test_history_errors(fake: FakeSlack, http: aiohttp.ClientSession) -> None:
    fake.channels["CPUB"].is_member = False
    fake.channels["GPRIV"].is_member = False

    public = await call(http, fake, "conversations.history", channel="CPUB")
    private = await call(http, fake, "conversations.history", channel="GPRIV")
    cursor = await call(http, fake, "conversations.history", channel="CMOD", cursor="nope")

    assert public["error"] == "not_in_channel"  # a public channel the bot is not in
    assert private["error"] == "channel_not_found"  # a private one does not exist for it
    assert cursor["error"] == "invalid_cursor"


# -- chat.postMessage / chat.update / chat.postEphemeral ---------------------------------


async def test_post_to_a_user_lands_in_a_dm_channel(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    fake.scopes.discard("im:write")
    answer = await post(http, fake, "UREQ", text="hello")
    without_scope = await call(http, fake, "conversations.open", users="UREQ")
    fake.scopes.add("im:write")
    opened = await call(http, fake, "conversations.open", users="UREQ")

    assert answer["channel"].startswith("D")
    assert (without_scope["error"], without_scope["needed"]) == ("missing_scope", "im:write")
    assert opened["channel"]["id"] == answer["channel"]
    assert [m.text for m in fake.messages("UREQ")] == ["hello"]


async def test_not_in_channel_versus_channel_not_found(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    fake.channels["CPUB"].is_member = False
    fake.channels["GPRIV"].is_member = False

    assert (await post(http, fake, "CPUB", text="x"))["error"] == "not_in_channel"
    assert (await post(http, fake, "GPRIV", text="x"))["error"] == "channel_not_found"
    assert (await post(http, fake, "CNOPE", text="x"))["error"] == "channel_not_found"
    info = await call(http, fake, "conversations.info", channel="CPUB")
    assert info["channel"]["is_member"] is False  # a public channel is visible from outside


async def test_message_limits(fake: FakeSlack, http: aiohttp.ClientSession) -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    button = {
        "type": "actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "b" * 76}, "value": "v"}
        ],
    }
    verbatim_plain = {
        "type": "section",
        "text": {"type": "plain_text", "text": "x", "verbatim": True},
    }

    assert (await post(http, fake, "CPUB", text="x" * 40_001))["error"] == "msg_too_long"
    assert (await post(http, fake, "CPUB"))["error"] == "no_text"
    for blocks in ([section] * 51, [too_long], [button], [verbatim_plain]):
        answer = await post(http, fake, "CPUB", text="t", blocks=blocks)
        assert answer["error"] == "invalid_blocks", blocks
        assert answer["response_metadata"]["messages"]
    assert (await post(http, fake, "CPUB", text="t", blocks=[section] * 50))["ok"]


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"event_type": "bad type!", "event_payload": {}}, "invalid_metadata_schema"),
        ({"event_type": "ok"}, "invalid_metadata_format"),
        ("not an object", "invalid_metadata_format"),
    ],
)
async def test_metadata_is_validated(
    fake: FakeSlack, http: aiohttp.ClientSession, metadata: Any, error: str
) -> None:
    assert (await post(http, fake, "CPUB", text="t", metadata=metadata))["error"] == error


async def test_only_the_bots_own_messages_can_be_updated(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    mine = await post(http, fake, "CPUB", text="mine")
    fake.chatter("CPUB", 1)
    theirs = fake.messages("CPUB")[-1].ts

    ok = await call(http, fake, "chat.update", channel="CPUB", ts=mine["ts"], text="edited")
    refused = await call(http, fake, "chat.update", channel="CPUB", ts=theirs, text="edited")
    missing = await call(http, fake, "chat.update", channel="CPUB", ts="1.000001", text="x")

    assert ok["ok"]
    assert refused["error"] == "cant_update_message"
    assert missing["error"] == "message_not_found"


async def test_ephemerals_are_not_persistent_and_only_for_members(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    fake.channels["CGEN"].members = {"UREQ"}

    shown = await call(http, fake, "chat.postEphemeral", channel="CGEN", user="UREQ", text="psst")
    outsider = await call(http, fake, "chat.postEphemeral", channel="CGEN", user="UOUT", text="x")
    history = await call(http, fake, "conversations.history", channel="CGEN")
    edit = await call(http, fake, "chat.update", channel="CGEN", ts=shown["message_ts"], text="y")

    assert shown["ok"]
    assert outsider["error"] == "user_not_in_channel"
    assert history["messages"] == []  # never stored in the channel
    assert edit["error"] == "message_not_found"
    assert [e.text for e in fake.ephemerals_for("UREQ")] == ["psst"]


# -- views and triggers ---------------------------------------------------------------


def modal(**overrides: Any) -> dict[str, Any]:
    view = {
        "type": "modal",
        "callback_id": "cb",
        "title": {"type": "plain_text", "text": "Edit joke"},
        "submit": {"type": "plain_text", "text": "Save"},
        "blocks": [
            {
                "type": "input",
                "block_id": "b",
                "label": {"type": "plain_text", "text": "Joke"},
                "element": {"type": "plain_text_input", "action_id": "a", "max_length": 2000},
            }
        ],
    }
    return {**view, **overrides}


async def test_trigger_is_single_use_and_lives_three_seconds(http: aiohttp.ClientSession) -> None:
    clock = FakeClock()
    async with FakeSlack(clock=clock) as fake:
        first = fake.issue_trigger()
        late = fake.issue_trigger()

        opened = await call(http, fake, "views.open", trigger_id=first, view=modal())
        again = await call(http, fake, "views.open", trigger_id=first, view=modal())
        clock.advance(3.5)
        expired = await call(http, fake, "views.open", trigger_id=late, view=modal())
        unknown = await call(http, fake, "views.open", trigger_id="made-up", view=modal())

    assert opened["ok"]
    assert again["error"] == "exchanged_trigger_id"
    assert expired["error"] == "expired_trigger_id"
    assert unknown["error"] == "invalid_trigger_id"


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": {"type": "plain_text", "text": "A title that is far too long"}},
        {"private_metadata": "x" * 3001},
        {"submit": {"type": "mrkdwn", "text": "Save"}},
    ],
)
async def test_view_limits(
    fake: FakeSlack, http: aiohttp.ClientSession, overrides: dict[str, Any]
) -> None:
    answer = await call(
        http, fake, "views.open", trigger_id=fake.issue_trigger(), view=modal(**overrides)
    )

    assert answer["error"] == "invalid_arguments"


async def test_initial_value_must_fit_max_length(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    view = modal()
    view["blocks"][0]["element"].update(initial_value="x" * 2001)

    answer = await call(http, fake, "views.open", trigger_id=fake.issue_trigger(), view=view)

    assert answer["error"] == "invalid_arguments"


# -- response_url ---------------------------------------------------------------------


async def test_response_url_takes_five_posts_within_thirty_minutes(
    http: aiohttp.ClientSession,
) -> None:
    clock = FakeClock()
    async with FakeSlack(clock=clock) as fake:
        busy, old = fake.webhook_url("a"), fake.webhook_url("b")
        statuses = []
        for _ in range(6):
            async with http.post(busy, json={"text": "x"}) as resp:
                statuses.append(resp.status)
        clock.advance(30 * 60 + 1)
        async with http.post(old, json={"text": "x"}) as resp:
            late = resp.status, await resp.text()

    assert statuses == [200] * 5 + [404]
    assert late == (404, "expired_url")
    assert len(fake.webhooks) == 5


# -- scopes, plans --------------------------------------------------------------------


async def test_scopes_come_from_the_manifest_and_are_enforced(http: aiohttp.ClientSession) -> None:
    assert "chat:write" in manifest_scopes()
    async with FakeSlack(scopes=frozenset({"chat:write"})) as fake:
        history = await call(http, fake, "conversations.history", channel="CPUB")
        groups = await call(http, fake, "usergroups.users.list", usergroup="S1")
        posted = await post(http, fake, "CPUB", text="x")

    assert (history["error"], history["needed"]) == ("missing_scope", "channels:history")
    assert (groups["error"], groups["needed"]) == ("missing_scope", "usergroups:read")
    assert posted["ok"]


async def test_user_groups_need_a_paid_plan(http: aiohttp.ClientSession) -> None:
    async with FakeSlack(usergroups={"S1": ["U1"]}, plan="free") as fake:
        answer = await call(http, fake, "usergroups.users.list", usergroup="S1")

    assert answer["error"] == "plan_upgrade_required"


async def test_lost_answers_are_applied(fake: FakeSlack, http: aiohttp.ClientSession) -> None:
    fake.fail_next("chat.postMessage", 1, status=200, error="internal_error", apply_then_error=True)

    answer = await post(http, fake, "CPUB", text="posted anyway")

    assert answer == {"ok": False, "error": "internal_error"}
    assert [m.text for m in fake.messages("CPUB")] == ["posted anyway"]


async def test_busy_channel_fills_with_chatter_after_each_bot_post(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    fake.busy["CPUB"] = (200, 300)

    await post(http, fake, "CPUB", text="joke", metadata=METADATA)

    first, *rest = fake.messages("CPUB")
    assert first.text == "joke"
    assert 200 <= len(rest) <= 300
    assert all(not m.by_bot for m in rest)
    assert json.dumps(first.metadata) == json.dumps(METADATA)
