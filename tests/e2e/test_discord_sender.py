"""DiscordSender end to end: outbox effects become REST calls on the fake Discord."""

import asyncio
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.discord_adapter import DiscordSender, build_discord, invite_url
from bot.errors import CannotReconcile, OutcomeUnknown, SendError
from bot.models import Actor, EffectKind, Origin, OutboxEffect
from tests.support.fake_discord import (
    ALICE,
    BOT_ID,
    GENERAL_CHANNEL,
    GENERAL_THREAD,
    GUILD_ID,
    MOD_CHANNEL,
    PUBLIC_CHANNEL,
    READ_HISTORY,
    TOKEN,
    Session,
    StubSink,
    button_ids,
    discord_session,
    serve_fake,
)
from tests.support.hostile import HOSTILE

ORIGIN = Origin(
    platform="discord",
    scope=str(GUILD_ID),
    requester=Actor("discord", str(ALICE), "Alice"),
    mod_channel=str(MOD_CHANNEL),
    public_channel=str(PUBLIC_CHANNEL),
    reply_channel=str(GENERAL_CHANNEL),
)
CARD = {
    "topic": "cats @everyone",
    "draft": "@everyone Why did the cat sit on the laptop? To keep an eye on the mouse.",
    "attempt": 1,
    "max_attempts": 3,
    "model_label": "FakeLLM (scripted test model)",
    "requester": "Alice",
}
MESSAGES = r"/channels/(\d+)/messages"


def effect(
    kind: EffectKind,
    payload: dict[str, Any],
    *,
    key: str = "k1",
    run_id: str = "discord:1",
    card_ref: str | None = None,
) -> OutboxEffect:
    return OutboxEffect(f"{run_id}:1:{kind}", run_id, kind, ORIGIN, payload, key, card_ref=card_ref)


def review(wait: str = "Tok1", key: str = "k1") -> OutboxEffect:
    return effect(EffectKind.REVIEW_POST, {"token": wait, "card": CARD}, key=key)


async def test_review_post_is_a_normal_message_with_four_buttons(bot: Session) -> None:
    since = len(bot.fake.calls)

    ref = await bot.sender.send(review())

    call = bot.fake.calls_to("POST", MESSAGES, since=since)[0]
    assert call.path == f"/channels/{MOD_CHANNEL}/messages"
    assert call.body["nonce"] == "k1"
    assert call.body["enforce_nonce"] is True
    assert call.body["allowed_mentions"] == {"parse": []}
    assert "flags" not in call.body or not call.body["flags"] & 64
    card = bot.fake.message(ref)
    assert button_ids(card) == [
        "jk:v1:Tok1:approve",
        "jk:v1:Tok1:reject",
        "jk:v1:Tok1:reason",
        "jk:v1:Tok1:edit",
    ]
    embed = card["embeds"][0]
    assert embed["description"] == str(CARD["draft"]).replace("@everyone", "@\u200beveryone")
    assert {"name": "Attempt", "value": "1 of 3", "inline": True} in embed["fields"]
    assert embed["footer"]["text"] == "FakeLLM (scripted test model) · ref k1"


async def test_the_hostile_corpus_posts_through_the_strict_fake(bot: Session) -> None:
    # Every renderer's output for every hostile string is a body Discord accepts (limits,
    # the 6,000 total, no empty field): no 50035 ends a card, a joke or a notice.
    for i, (_, text) in enumerate(HOSTILE):
        card: dict[str, Any] = dict.fromkeys(("topic", "draft", "model_label", "requester"), text)
        card |= {"attempt": 1, "max_attempts": 3}
        ref = await bot.sender.send(
            effect(EffectKind.REVIEW_POST, {"token": "Tok1", "card": card}, key=f"c{i}")
        )
        decided = {"token": "Tok1", "card": card, "outcome": "edit", "actor": text}
        decided |= {"reason": text, "text": text}
        await bot.sender.send(effect(EffectKind.REVIEW_UPDATE, decided, key=f"u{i}", card_ref=ref))
        joke = {"text": text, "topic": text, "requester": text}
        await bot.sender.send(effect(EffectKind.PUBLISH, joke, key=f"p{i}"))
        await bot.sender.send(effect(EffectKind.NOTIFY, {"text": text}, key=f"n{i}"))
        await bot.sender.send(effect(EffectKind.ALERT, {"text": text}, key=f"a{i}"))

    assert len(bot.fake.messages(PUBLIC_CHANNEL)) == len(HOSTILE)
    assert all(c.status == 200 for c in bot.fake.calls if c.method in ("POST", "PATCH"))


async def test_resend_with_the_same_nonce_returns_the_same_message(bot: Session) -> None:
    first = await bot.sender.send(review())
    second = await bot.sender.send(review())

    assert first == second
    assert len(bot.fake.messages(MOD_CHANNEL)) == 1


async def test_review_update_edits_the_card_and_removes_buttons(bot: Session) -> None:
    ref = await bot.sender.send(review())
    update = effect(
        EffectKind.REVIEW_UPDATE,
        {"token": "Tok1", "card": CARD, "outcome": "reject", "actor": "Mo", "reason": "mean"},
        key="k2",
        card_ref=ref,
    )

    assert await bot.sender.reconcile(update) is None
    assert await bot.sender.send(update) == ref

    card = bot.fake.message(ref)
    assert card["content"] == "❌ Rejected by Mo: mean"
    assert card["components"] == []
    assert await bot.sender.reconcile(update) == ref


async def test_publish_credits_the_requester_without_pinging(bot: Session) -> None:
    text = "@everyone Why did the cat sit on the laptop?"
    since = len(bot.fake.calls)

    ref = await bot.sender.send(
        effect(
            EffectKind.PUBLISH, {"text": text, "topic": "cats", "requester": "Alice"}, key="pub1"
        )
    )

    call = bot.fake.calls_to("POST", MESSAGES, since=since)[0]
    assert call.path == f"/channels/{PUBLIC_CHANNEL}/messages"
    assert call.body["allowed_mentions"] == {"parse": []}
    assert call.body["nonce"] == "pub1"
    posted = bot.fake.message(ref)
    assert posted["embeds"][0]["description"] == text.replace("@", "@\u200b")
    assert posted["embeds"][0]["footer"]["text"] == "Requested by Alice · ref pub1"
    assert posted["content"] == ""


async def test_publish_retries_after_a_429(bot: Session) -> None:
    bot.fake.rate_limit("POST", rf"/channels/{PUBLIC_CHANNEL}/messages", retry_after=0.05)
    since = len(bot.fake.calls)

    ref = await bot.sender.send(effect(EffectKind.PUBLISH, {"text": "A joke"}, key="pub2"))

    calls = bot.fake.calls_to("POST", rf"/channels/{PUBLIC_CHANNEL}/messages", since=since)
    assert [c.status for c in calls] == [429, 200]
    assert [m["id"] for m in bot.fake.messages(PUBLIC_CHANNEL)] == [ref]


async def test_cloudflare_429_is_not_retried(bot: Session) -> None:
    bot.fake.cloudflare_ban("POST", rf"/channels/{PUBLIC_CHANNEL}/messages")

    with pytest.raises(SendError) as info:
        await bot.sender.send(effect(EffectKind.PUBLISH, {"text": "A joke"}, key="pub3"))

    assert info.value.retryable is True
    assert len(bot.fake.calls_to("POST", rf"/channels/{PUBLIC_CHANNEL}/messages")) == 1
    assert bot.fake.messages(PUBLIC_CHANNEL) == []


@pytest.mark.parametrize("scope", ["user", "shared", "global"])
async def test_a_long_429_is_a_retryable_send_error_at_once(bot: Session, scope: str) -> None:
    path = rf"/channels/{PUBLIC_CHANNEL}/messages"
    bot.fake.rate_limit("POST", path, retry_after=120.0, scope=scope)

    async with asyncio.timeout(5):  # not slept inside the send, nor timed out as "unknown"
        with pytest.raises(SendError) as info:
            await bot.sender.send(effect(EffectKind.PUBLISH, {"text": "A joke"}, key="pub6"))

    assert info.value.retryable is True
    assert info.value.retry_after == 120.0
    assert [c.status for c in bot.fake.calls_to("POST", path)] == [429]
    assert bot.fake.messages(PUBLIC_CHANNEL) == []


async def test_an_exhausted_bucket_does_not_hold_back_a_successful_post(bot: Session) -> None:
    path = rf"/channels/{PUBLIC_CHANNEL}/messages"
    bot.fake.exhaust("POST", path, reset_after=120.0)
    publish = effect(EffectKind.PUBLISH, {"text": "A joke"}, key="pub7")

    async with asyncio.timeout(5):  # the message exists: no OutcomeUnknown, no reconcile
        ref = await bot.sender.send(publish)

    assert [m["id"] for m in bot.fake.messages(PUBLIC_CHANNEL)] == [ref]


def test_the_send_timeout_outlasts_the_longest_rate_limit_wait(bot: Session) -> None:
    longest = bot.client.http.max_ratelimit_timeout

    assert longest is not None
    assert DiscordSender(bot.client).timeout_s > longest


async def test_missing_permission_is_not_retryable(bot: Session) -> None:
    body = {"code": 50013, "message": "Missing Permissions"}
    bot.fake.fail("POST", rf"/channels/{PUBLIC_CHANNEL}/messages", status=403, body=body)

    with pytest.raises(SendError) as info:
        await bot.sender.send(effect(EffectKind.PUBLISH, {"text": "A joke"}, key="pub4"))

    assert info.value.retryable is False
    assert "50013" in str(info.value)


async def test_lost_response_is_outcome_unknown_then_reconciled(bot: Session) -> None:
    bot.fake.fail("POST", rf"/channels/{PUBLIC_CHANNEL}/messages", status=200, then="drop")
    publish = effect(EffectKind.PUBLISH, {"text": "A joke"}, key="pub5")

    with pytest.raises(OutcomeUnknown):
        await bot.sender.send(publish)

    [posted] = bot.fake.messages(PUBLIC_CHANNEL)
    assert "nonce" not in bot.fake.state.public(posted)  # history hides it: the footer key works
    assert await bot.sender.reconcile(publish) == posted["id"]


async def test_reconcile_uses_the_nonce_when_history_returns_it(bot: Session) -> None:
    bot.fake.state.history_includes_nonce = True
    ref = await bot.sender.send(review(key="n1"))

    assert await bot.sender.reconcile(review(key="n1")) == ref
    assert await bot.sender.reconcile(review(key="n2")) is None


async def test_reconcile_ignores_other_authors_with_the_same_key(bot: Session) -> None:
    embed = {"description": "fake", "footer": {"text": "x · ref k9"}}
    bot.fake.state.create(PUBLIC_CHANNEL, {"embeds": [embed]}, author=ALICE)

    found = await bot.sender.reconcile(effect(EffectKind.PUBLISH, {"text": "t"}, key="k9"))

    assert found is None


async def test_reconcile_scans_back_to_the_run_start(bot: Session) -> None:
    run_id = f"discord:{bot.fake.state.new_id()}"
    publish = effect(EffectKind.PUBLISH, {"text": "A joke"}, key="deep", run_id=run_id)
    ref = await bot.sender.send(publish)
    for i in range(250):  # a busy channel buries our message under other people's
        bot.fake.state.create(PUBLIC_CHANNEL, {"content": f"chatter {i}"}, author=ALICE)

    assert await bot.sender.reconcile(publish) == ref
    assert len(bot.fake.calls_to("GET", rf"/channels/{PUBLIC_CHANNEL}/messages")) == 3


async def test_reconcile_gives_up_when_absence_cannot_be_proven(bot: Session) -> None:
    for i in range(110):
        bot.fake.state.create(PUBLIC_CHANNEL, {"content": f"chatter {i}"}, author=ALICE)
    untimed = effect(EffectKind.PUBLISH, {"text": "t"}, key="gone", run_id="terminal:x")
    timed = effect(EffectKind.PUBLISH, {"text": "t"}, key="gone", run_id="discord:1")
    small = DiscordSender(bot.client, scan_max=100)

    with pytest.raises(CannotReconcile):
        await bot.sender.reconcile(untimed)  # a full page and no time bound: unproven
    assert await bot.sender.reconcile(timed) is None  # scanned to the channel's start
    with pytest.raises(CannotReconcile):
        await small.reconcile(timed)  # scan budget spent before the run's start


async def test_reconcile_without_read_message_history_cannot_prove_absence(bot: Session) -> None:
    publish = effect(EffectKind.PUBLISH, {"text": "A joke"}, key="hist1")
    await bot.sender.send(publish)
    await bot.overwrite(PUBLIC_CHANNEL, BOT_ID, deny=READ_HISTORY)  # changed after /jokeconfig

    with pytest.raises(CannotReconcile, match="Read Message History"):
        await bot.sender.reconcile(publish)  # Discord answers 200 [], which proves nothing

    assert len(bot.fake.messages(PUBLIC_CHANNEL)) == 1


async def test_reconcile_in_an_empty_readable_channel_is_not_found(bot: Session) -> None:
    publish = effect(EffectKind.PUBLISH, {"text": "A joke"}, key="hist2")

    assert await bot.sender.reconcile(publish) is None  # the permission is known: truly empty


async def test_reconcile_without_the_guild_cached(
    monkeypatch: pytest.MonkeyPatch, sink: StubSink
) -> None:
    async with discord_session(monkeypatch, sink, guild_available=False) as uncached:
        publish = effect(EffectKind.PUBLISH, {"text": "A joke"}, key="hist3")
        with pytest.raises(CannotReconcile):
            await uncached.sender.reconcile(publish)  # empty, and the permissions are unknown
        uncached.fake.state.create(PUBLIC_CHANNEL, {"content": "hi"}, author=ALICE)

        assert await uncached.sender.reconcile(publish) is None  # any message proves access


async def test_notify_sends_a_dm(bot: Session) -> None:
    since = len(bot.fake.calls)

    ref = await bot.sender.send(effect(EffectKind.NOTIFY, {"text": "Your joke is out!"}, key="n1"))

    dm = bot.fake.state.dm_channels[ALICE]
    assert bot.fake.calls_to("POST", "/users/@me/channels", since=since)[0].body == {
        "recipient_id": ALICE
    }
    assert bot.fake.message(ref)["channel_id"] == str(dm)
    assert bot.fake.messages(GENERAL_CHANNEL) == []
    assert await bot.sender.reconcile(effect(EffectKind.NOTIFY, {"text": "x"}, key="n1")) == ref


async def test_notify_falls_back_to_the_channel_when_dms_are_closed(bot: Session) -> None:
    bot.fake.state.dm_blocked.add(ALICE)
    since = len(bot.fake.calls)
    notify = effect(EffectKind.NOTIFY, {"text": "Your joke is out!"}, key="n2")

    ref = await bot.sender.send(notify)

    posted = bot.fake.calls_to("POST", rf"/channels/{GENERAL_CHANNEL}/messages", since=since)[0]
    assert posted.body["content"] == f"<@{ALICE}>"
    assert posted.body["allowed_mentions"] == {"parse": [], "users": [ALICE]}
    assert bot.fake.message(ref)["embeds"][0]["description"] == "Your joke is out!"
    assert await bot.sender.reconcile(notify) == ref


async def test_closed_dm_fallback_works_in_a_thread_with_the_invite_permissions(
    monkeypatch: pytest.MonkeyPatch, sink: StubSink
) -> None:
    # The bot's role holds exactly what the invite URL asks for; /joke was typed in a thread.
    granted = int(parse_qs(urlsplit(invite_url(1)).query)["permissions"][0])
    async with discord_session(monkeypatch, sink, bot_permissions=granted) as session:
        session.fake.state.dm_blocked.add(ALICE)
        origin = replace(ORIGIN, reply_channel=str(GENERAL_THREAD))
        notify = replace(effect(EffectKind.NOTIFY, {"text": "Out!"}, key="n3"), origin=origin)

        ref = await session.sender.send(notify)

        assert session.fake.message(ref)["channel_id"] == str(GENERAL_THREAD)


async def test_alert_goes_to_the_moderators(bot: Session) -> None:
    ref = await bot.sender.send(effect(EffectKind.ALERT, {"text": "Could not post"}, key="a1"))

    alert = bot.fake.message(ref)
    assert alert["channel_id"] == str(MOD_CHANNEL)
    assert alert["author"]["id"] == str(BOT_ID)
    assert "Could not post" in alert["embeds"][0]["description"]


async def test_bad_channel_id_is_not_retryable(bot: Session) -> None:
    broken = effect(EffectKind.PUBLISH, {"text": "t"})
    broken = OutboxEffect(
        **{**broken.__dict__, "origin": Origin("discord", "1", ORIGIN.requester, "", "")}
    )

    with pytest.raises(SendError) as info:
        await bot.sender.send(broken)

    assert info.value.retryable is False


async def test_sender_before_login_asks_to_retry() -> None:
    _, sender = build_discord(StubSink())

    with pytest.raises(SendError) as info:
        await sender.send(review())

    assert info.value.retryable is True
    assert info.value.retry_after == 1.0  # the gateway is usually up by then


async def test_before_the_guild_cache_is_filled_reconcile_waits_rather_than_guessing(
    monkeypatch: pytest.MonkeyPatch, sink: StubSink
) -> None:
    # Logged in over REST, gateway not connected yet (how the outbox finds it at boot): an
    # empty history page would otherwise be judged without the cached permissions.
    async with serve_fake() as fake:
        fake.patch(monkeypatch)
        client, sender = build_discord(sink)
        async with client:
            await client.login(TOKEN)
            publish = effect(EffectKind.PUBLISH, {"text": "A joke"}, key="boot1")

            with pytest.raises(SendError) as info:
                await sender.reconcile(publish)

    assert info.value.retryable is True
