"""Slash commands end to end: the real discord.py client against the local fake Discord."""

import asyncio
import re
from dataclasses import replace
from typing import Any

import discord
import pytest

from adapters.discord_adapter import sync_commands, sync_only
from bot.models import (
    Actor,
    JokeRequest,
    Origin,
    RequestResult,
    RequestStatus,
    ScopeConfig,
    Surface,
)
from tests.support.fake_discord import (
    ADMIN,
    ALICE,
    APP_ID,
    BOT_ID,
    EMBED,
    GENERAL_CHANNEL,
    GUILD_ID,
    MOD_CHANNEL,
    MOD_ROLE,
    PUBLIC_CHANNEL,
    RANDO,
    READ_HISTORY,
    SEND,
    TOKEN,
    VIEW,
    Call,
    Session,
    StubSink,
    docs_shaped_slash,
    jokeconfig,
    overlay,
    slash,
)

CALLBACK = r"/interactions/\d+/[^/]+/callback"
FOLLOWUP = rf"/webhooks/{APP_ID}/[^/]+"


def _is(method: str, pattern: str) -> Any:
    rx = re.compile(pattern)
    return lambda c: c.method == method and rx.fullmatch(c.path) is not None


async def _answers(bot: Session, iid: int, since: int) -> tuple[Call, Call]:
    """The callback and the followup of one interaction, in the order they arrived."""
    followup = await bot.fake.wait_for_call(_is("POST", FOLLOWUP), since=since)
    callback = bot.fake.calls_to("POST", rf"/interactions/{iid}/[^/]+/callback", since=since)[0]
    return callback, followup


def test_canary_the_two_patched_attributes_exist() -> None:
    assert isinstance(discord.http.Route.BASE, str)
    assert discord.http.Route.BASE.startswith("https://discord.com/api/v")
    assert str(discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY).startswith("wss://gateway")


async def test_login_uses_only_the_documented_calls(bot: Session) -> None:
    assert [(c.method, c.path) for c in bot.fake.calls] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
    ]
    assert bot.client.guilds[0].id == GUILD_ID


async def test_joke_defers_first_then_answers_ephemerally(bot: Session, sink: StubSink) -> None:
    since = len(bot.fake.calls)

    iid = await bot.fake.interact(slash("joke", {"topic": "cats"}))
    callback, followup = await _answers(bot, iid, since)

    assert bot.fake.calls.index(callback) < bot.fake.calls.index(followup)
    assert callback.body == {"type": 5, "data": {"flags": 64}}
    assert followup.body["content"] == "Sent to the moderators."
    assert followup.body["flags"] == 64
    assert followup.body["allowed_mentions"] == {"parse": []}
    assert sink.requests == [
        JokeRequest(
            request_key=f"discord:{iid}",
            origin=Origin(
                platform="discord",
                scope=str(GUILD_ID),
                requester=Actor("discord", str(ALICE), "Alice", name="Alice"),
                mod_channel="",
                public_channel="",
                reply_channel=str(GENERAL_CHANNEL),
            ),
            topic="cats",
        )
    ]


async def test_joke_refusal_is_shown_and_mentions_are_inert(bot: Session, sink: StubSink) -> None:
    sink.request_result = RequestResult(RequestStatus.REFUSED, "No jokes about @everyone.")
    since = len(bot.fake.calls)

    iid = await bot.fake.interact(slash("joke", {"topic": "@everyone"}))
    _, followup = await _answers(bot, iid, since)

    assert sink.requests[0].topic == "@everyone"
    assert followup.body["content"] == "No jokes about @\u200beveryone."  # shown, never parsed
    assert followup.body["allowed_mentions"] == {"parse": []}


async def test_slow_sink_does_not_delay_the_defer(bot: Session, sink: StubSink) -> None:
    sink.gate = asyncio.Event()
    since = len(bot.fake.calls)

    iid = await bot.fake.interact(slash("joke", {"topic": "cats"}))
    await bot.fake.wait_for_call(_is("POST", CALLBACK), since=since)

    assert bot.fake.calls_to("POST", FOLLOWUP, since=since) == []  # the sink is still busy
    assert bot.fake.interaction(iid).responses == [5]
    latency = bot.fake.ack_latency(iid)
    assert latency is not None
    assert latency < 1.0
    sink.gate.set()
    followup = await bot.fake.wait_for_call(_is("POST", FOLLOWUP), since=since)
    assert followup.body["content"] == "Sent to the moderators."


async def test_sink_failure_gets_a_generic_answer_and_is_logged(
    bot: Session, sink: StubSink, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(request: JokeRequest) -> RequestResult:
        raise RuntimeError("database on fire")

    sink.request_joke = boom  # type: ignore[method-assign]  # a failing sink for this test
    since = len(bot.fake.calls)

    iid = await bot.fake.interact(slash("joke", {"topic": "cats"}))
    _, followup = await _answers(bot, iid, since)

    assert "Something went wrong" in followup.body["content"]
    assert any(
        "request_joke failed" in r.getMessage() and str(iid) in r.getMessage()
        for r in caplog.records
    )


async def test_late_interaction_starts_nothing(
    bot: Session, sink: StubSink, caplog: pytest.LogCaptureFixture
) -> None:
    since = len(bot.fake.calls)

    await bot.fake.interact(slash("joke", {"topic": "cats"}), age_s=3.5)
    late = await bot.fake.wait_for_call(_is("POST", CALLBACK), since=since)
    iid = await bot.fake.interact(slash("joke", {"topic": "dogs"}))
    await _answers(bot, iid, since)

    assert late.status == 404
    assert [r.topic for r in sink.requests] == ["dogs"]
    assert any("could not defer" in r.getMessage() for r in caplog.records)


async def test_docs_example_without_overlay_is_logged_and_the_bot_keeps_running(
    bot: Session, sink: StubSink, caplog: pytest.LogCaptureFixture
) -> None:
    raw = docs_shaped_slash("joke", [{"type": 3, "name": "topic", "value": "cats"}], ALICE)
    since = len(bot.fake.calls)

    await bot.fake.interact(raw)  # lacks "version" etc.: discord.py raises KeyError
    iid = await bot.fake.interact(overlay(raw | {"id": str(int(raw["id"]) + 1)}))
    await _answers(bot, iid, since)

    assert [r.request_key for r in sink.requests] == [f"discord:{iid}"]
    assert any("malformed INTERACTION_CREATE" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: p | {"data": {"component_type": 2}},  # a click without custom_id
        lambda p: p | {"type": 5, "data": {"custom_id": "jk:v1:a:editmodal"}},  # no components
        lambda p: {k: v for k, v in p.items() if k != "token"},
    ],
    ids=["click-no-custom-id", "modal-no-components", "no-token"],
)
async def test_malformed_payloads_are_logged_and_survived(
    bot: Session,
    sink: StubSink,
    caplog: pytest.LogCaptureFixture,
    mangle: Any,
) -> None:
    bad = mangle(slash("joke", {"topic": "x"}) | {"type": 3})
    since = len(bot.fake.calls)

    await bot.fake.interact(bad)
    iid = await bot.fake.interact(slash("joke", {"topic": "after"}))
    await _answers(bot, iid, since)

    assert [r.topic for r in sink.requests] == ["after"]
    assert any("malformed INTERACTION_CREATE" in r.getMessage() for r in caplog.records)
    assert not bot.client.is_closed()


async def test_jokeconfig_saves_the_scope(bot: Session, sink: StubSink) -> None:
    since = len(bot.fake.calls)

    iid = await bot.fake.interact(jokeconfig(user=ADMIN))
    _, followup = await _answers(bot, iid, since)

    assert sink.saved == [
        ScopeConfig("discord", str(GUILD_ID), str(MOD_CHANNEL), str(PUBLIC_CHANNEL), str(MOD_ROLE))
    ]
    assert f"<#{MOD_CHANNEL}>" in followup.body["content"]
    assert f"<@&{MOD_ROLE}>" in followup.body["content"]
    assert followup.body["allowed_mentions"] == {"parse": []}  # the role is named, not pinged
    assert followup.body["flags"] == 64


async def test_jokeconfig_saves_the_screen_options(bot: Session, sink: StubSink) -> None:
    since = len(bot.fake.calls)

    iid = await bot.fake.interact(
        jokeconfig(user=ADMIN, blocked_words="Heck, dang* ,, *bold*", screen_threshold=0.3)
    )
    _, followup = await _answers(bot, iid, since)

    [saved] = sink.saved
    assert (saved.blocked_words, saved.screen_threshold) == (("Heck", "dang*", "*bold*"), 0.3)
    content = followup.body["content"]
    assert "“Heck”, “dang\\*”, “\\*bold\\*”" in content  # the words shown, markdown escaped
    assert "threshold: 0.3" in content


async def test_jokeconfig_without_screen_options_keeps_them(bot: Session, sink: StubSink) -> None:
    key = ("discord", str(GUILD_ID))
    sink.scopes[key] = replace(sink.scopes[key], blocked_words=("heck",), screen_threshold=0.4)

    for words in (None, "-"):  # left out, then cleared
        since = len(bot.fake.calls)
        iid = await bot.fake.interact(jokeconfig(user=ADMIN, blocked_words=words))
        await _answers(bot, iid, since)

    kept, cleared = sink.saved
    assert (kept.blocked_words, kept.screen_threshold) == (("heck",), 0.4)
    assert (cleared.blocked_words, cleared.screen_threshold) == ((), 0.4)


@pytest.mark.parametrize(
    ("channel", "deny", "names"),
    [
        (PUBLIC_CHANNEL, READ_HISTORY, ["Read Message History"]),
        (PUBLIC_CHANNEL, READ_HISTORY | EMBED, ["Embed Links", "Read Message History"]),
        (MOD_CHANNEL, SEND, ["Send Messages"]),
        (MOD_CHANNEL, VIEW, ["View Channel", "Send Messages", "Embed Links"]),
    ],
)
async def test_jokeconfig_names_the_permissions_the_bot_lacks(
    bot: Session, sink: StubSink, channel: int, deny: int, names: list[str]
) -> None:
    await bot.overwrite(channel, BOT_ID, deny=deny)
    since = len(bot.fake.calls)

    iid = await bot.fake.interact(jokeconfig(user=ADMIN))
    _, followup = await _answers(bot, iid, since)

    assert sink.saved == []
    content = followup.body["content"]
    assert f"<#{channel}>" in content
    for name in names:
        assert name in content
    other = MOD_CHANNEL if channel == PUBLIC_CHANNEL else PUBLIC_CHANNEL
    assert f"<#{other}>" not in content
    assert followup.body["flags"] == 64


async def test_jokeconfig_needs_manage_server(bot: Session, sink: StubSink) -> None:
    since = len(bot.fake.calls)

    await bot.fake.interact(jokeconfig(user=RANDO))
    answer = await bot.fake.wait_for_call(_is("POST", CALLBACK), since=since)

    assert sink.saved == []
    assert answer.body["type"] == 4
    assert answer.body["data"]["flags"] == 64
    assert "Manage Server" in answer.body["data"]["content"]


async def test_sync_commands_to_a_guild_snapshot(bot: Session) -> None:
    since = len(bot.fake.calls)

    names = await sync_commands(bot.client, GUILD_ID)

    assert sorted(names) == ["joke", "jokeconfig", "jokelink"]
    put = bot.fake.calls_to(
        "PUT", rf"/applications/{APP_ID}/guilds/{GUILD_ID}/commands", since=since
    )
    commands = {c["name"]: c for c in put[0].body}
    joke, config = commands["joke"], commands["jokeconfig"]
    assert joke["contexts"] == [0]
    assert joke["options"] == [
        {
            "type": 3,
            "name": "topic",
            "description": "What the joke should be about",
            "required": True,
            "min_length": 1,
            "max_length": 200,
        }
    ]
    assert int(config["default_member_permissions"]) == 1 << 5  # Manage Server
    assert [(o["name"], o["type"], o["required"]) for o in config["options"]] == [
        ("mod_channel", 7, True),
        ("public_channel", 7, True),
        ("moderator_role", 8, True),
        ("blocked_words", 3, False),
        ("screen_threshold", 10, False),
    ]
    assert (config["options"][4]["min_value"], config["options"][4]["max_value"]) == (0.01, 1.0)
    assert config["options"][0]["channel_types"] == [0, 5]  # text and announcement


async def test_sync_only_global_reports_the_invite(bot: Session) -> None:
    since = len(bot.fake.calls)

    report = await sync_only(TOKEN, None)

    assert sorted(report.commands) == ["joke", "jokeconfig", "jokelink"]
    assert report.application_id == APP_ID
    assert f"client_id={APP_ID}" in report.invite_url
    assert bot.fake.calls_to("PUT", rf"/applications/{APP_ID}/commands", since=since)


async def test_joke_in_a_dm_is_refused_with_a_reason(bot: Session, sink: StubSink) -> None:
    payload = slash("joke", {"topic": "cats"})
    payload["user"] = payload.pop("member")["user"]
    del payload["guild_id"]
    payload["channel"] = {"id": payload["channel_id"], "type": 1}
    payload["context"] = 1
    since = len(bot.fake.calls)

    await bot.fake.interact(payload)
    answer = await bot.fake.wait_for_path("POST", CALLBACK, since=since)

    assert answer.body["type"] == 4
    assert answer.body["data"]["content"] == "Use this command in a server, not in direct messages."
    assert sink.requests == []


async def test_jokeconfig_with_an_unknown_channel_is_answered(bot: Session, sink: StubSink) -> None:
    payload = jokeconfig(user=ADMIN, mod=1_200_000_000_000_000_999)  # not in the guild cache
    since = len(bot.fake.calls)

    await bot.fake.interact(payload)
    answer = await bot.fake.wait_for_path("POST", CALLBACK, since=since)

    assert answer.body["type"] == 4
    assert answer.body["data"]["content"] == "That option is not valid here; please pick another."
    assert sink.saved == []


async def test_jokelink_without_a_code_shows_a_code_for_this_server(
    bot: Session, sink: StubSink
) -> None:
    since = len(bot.fake.calls)

    await bot.fake.interact(slash("jokelink", {}, user=ADMIN))
    answer = await bot.fake.wait_for_call(_is("POST", CALLBACK), since=since)

    assert sink.codes == [("discord", str(GUILD_ID))]
    assert answer.body["data"]["flags"] == 64
    assert "/joke link ABCD-EFGH" in answer.body["data"]["content"]


async def test_jokelink_with_a_code_makes_this_channel_a_review_surface(
    bot: Session, sink: StubSink
) -> None:
    since = len(bot.fake.calls)

    await bot.fake.interact(
        slash("jokelink", {"code": "ABCD-EFGH"}, user=ADMIN, channel_id=MOD_CHANNEL)
    )
    answer = await bot.fake.wait_for_call(_is("POST", CALLBACK), since=since)

    assert sink.links == [("ABCD-EFGH", Surface("discord", str(MOD_CHANNEL)))]
    assert "now reviewed in this channel" in answer.body["data"]["content"]


@pytest.mark.parametrize(("user", "code"), [(RANDO, None), (ADMIN, "NOPE-NOPE")])
async def test_jokelink_refuses_non_admins_and_bad_codes(
    bot: Session, sink: StubSink, user: int, code: str | None
) -> None:
    since = len(bot.fake.calls)

    await bot.fake.interact(slash("jokelink", {"code": code} if code else {}, user=user))
    answer = await bot.fake.wait_for_call(_is("POST", CALLBACK), since=since)

    assert sink.codes == []
    assert sink.links == []
    text = answer.body["data"]["content"]
    assert "Manage Server" in text if user == RANDO else "unknown" in text
