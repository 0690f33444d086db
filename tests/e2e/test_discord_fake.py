"""The fake Discord itself keeps Discord's rules (so adapter tests can rely on them)."""

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import discord
import pytest

from adapters.discord_adapter import build_discord
from tests.support.fake_discord import (
    ADMIN,
    ALICE,
    BOT_ID,
    BOT_PERMS,
    BOT_ROLE,
    GENERAL_CHANNEL,
    GENERAL_THREAD,
    GUILD_ID,
    MOD,
    MOD_CHANNEL,
    MOD_ROLE,
    PUBLIC_CHANNEL,
    READ_HISTORY,
    REQUIRED_OVERLAY_KEYS,
    SEND,
    SEND_IN_THREADS,
    VIEW,
    FakeDiscord,
    StubSink,
    click,
    docs_shaped_slash,
    modal_submit,
    overlay,
    running,
    serve_fake,
    slash,
)
from tests.support.fake_discord._perms import ALL, MEMBER, ROLE, Overwrite
from tests.support.fake_discord._world import guild_permissions

Reply = tuple[int, Any, Any]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with serve_fake() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _call(
    http: aiohttp.ClientSession, fake: FakeDiscord, method: str, path: str, body: Any = None
) -> Reply:
    url = f"http://127.0.0.1:{fake.port}/api/v10{path}"
    async with http.request(method, url, json=body) as response:
        is_json = response.content_type == "application/json"
        data = await response.json() if is_json else await response.text()
        return response.status, data, response.headers


async def _post(http: aiohttp.ClientSession, fake: FakeDiscord, path: str, body: Any) -> Reply:
    return await _call(http, fake, "POST", path, body)


def _code(reply: Reply) -> tuple[int, int]:
    return reply[0], reply[1]["code"]


async def test_content_type_is_exactly_application_json(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    status, _, headers = await _call(http, fake, "GET", "/users/@me")

    assert status == 200
    assert headers["Content-Type"] == "application/json"


# ---- interactions: one ack, 3 s from creation, 15-minute tokens, valid response types -------


async def test_one_acknowledgement_per_interaction(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    payload = slash("joke", {"topic": "cats"})
    iid = await fake.interact(payload)
    path = f"/interactions/{iid}/{payload['token']}/callback"

    first = await _post(http, fake, path, {"type": 5, "data": {"flags": 64}})
    second = await _post(http, fake, path, {"type": 5, "data": {"flags": 64}})

    assert first[0] == 200
    assert second[:2] == (
        400,
        {"code": 40060, "message": "Interaction has already been acknowledged."},
    )


@pytest.mark.parametrize(("age_s", "status"), [(2.5, 200), (3.01, 404)])
async def test_the_3_s_deadline_counts_from_the_interaction_creation(
    fake: FakeDiscord, http: aiohttp.ClientSession, age_s: float, status: int
) -> None:
    payload = slash("joke", {"topic": "cats"})
    iid = await fake.interact(payload, age_s=age_s)  # the gateway delivered it late

    reply = await _post(http, fake, f"/interactions/{iid}/{payload['token']}/callback", {"type": 5})

    assert reply[0] == status
    if status == 404:
        assert reply[1]["code"] == 10062


async def test_tokens_expire_after_15_minutes_on_the_fakes_clock(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    payload = slash("joke", {"topic": "cats"})
    iid = await fake.interact(payload)
    token = payload["token"]
    await _post(http, fake, f"/interactions/{iid}/{token}/callback", {"type": 5})

    fresh = await _post(http, fake, f"/webhooks/1/{token}", {"content": "soon"})
    fake.state.clock.advance(15 * 60 + 1)
    late = await _post(http, fake, f"/webhooks/1/{token}", {"content": "late"})
    late_edit = await _call(http, fake, "PATCH", f"/webhooks/1/{token}/messages/@original", {})

    assert fresh[0] == 200
    assert _code(late) == (401, 50027)
    assert _code(late_edit) == (401, 50027)


def _slash() -> dict[str, Any]:
    return slash("joke", {"topic": "x"})


def _click() -> dict[str, Any]:
    return click("jk:v1:T:approve", None)


def _submit() -> dict[str, Any]:
    return modal_submit("jk:v1:T:editmodal", {"text": "x"}, None)


@pytest.mark.parametrize(
    ("build", "response", "ok"),
    [
        (_slash, 7, False),  # UPDATE_MESSAGE needs a component
        (_slash, 6, False),
        (_slash, 9, True),
        (_click, 6, True),
        (_submit, 9, False),  # no modal in answer to a modal
        (_submit, 4, True),
    ],
)
async def test_callback_types_are_checked_against_the_interaction_type(
    fake: FakeDiscord, http: aiohttp.ClientSession, build: Any, response: int, ok: bool
) -> None:
    payload = build()  # built now: interactions are only valid for 3 s after their creation
    iid = await fake.interact(payload)
    data = {"content": "hi"} if response == 4 else _modal() if response == 9 else None

    reply = await _post(
        http,
        fake,
        f"/interactions/{iid}/{payload['token']}/callback",
        {"type": response, "data": data},
    )

    assert reply[0] == (200 if ok else 400)
    if not ok:
        assert reply[1]["code"] == 50035
        assert "type" in reply[1]["errors"]


def _modal(**changes: Any) -> dict[str, Any]:
    field = {"type": 4, "custom_id": "text", "style": 2, "max_length": 2000, "value": "x"}
    field |= changes.pop("field", {})
    modal = {
        "custom_id": "jk:v1:T:editmodal",
        "title": "Edit joke",
        "components": [{"type": 18, "label": "Joke text", "component": field}],
    }
    return modal | changes


@pytest.mark.parametrize(
    ("modal", "where"),
    [
        (_modal(title="t" * 46), "title"),
        (_modal(custom_id="c" * 101), "custom_id"),
        (_modal(components=[]), "components"),
        (_modal(components=_modal()["components"] * 6), "components"),
        (_modal(field={"value": "v" * 2001}), "components"),  # longer than its max_length
        (_modal(field={"max_length": 4001}), "components"),
        (
            _modal(components=[{"type": 18, "label": "L" * 46, "component": {"custom_id": "t"}}]),
            "components",
        ),
    ],
)
async def test_modals_are_validated(
    fake: FakeDiscord, http: aiohttp.ClientSession, modal: dict[str, Any], where: str
) -> None:
    payload = click("jk:v1:T:edit", None)
    iid = await fake.interact(payload)

    reply = await _post(
        http, fake, f"/interactions/{iid}/{payload['token']}/callback", {"type": 9, "data": modal}
    )

    assert _code(reply) == (400, 50035)
    assert where in reply[1]["errors"]


# ---- messages: limits, empty messages, nonces, authors --------------------------------------


def _embed(**fields: Any) -> dict[str, Any]:
    return {"description": "d", **fields}


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"content": "x" * 2001}, ["content"]),
        ({"embeds": [_embed(title="t" * 257)]}, ["embeds", "0", "title"]),
        ({"embeds": [_embed(description="d" * 4097)]}, ["embeds", "0", "description"]),
        (
            {"embeds": [_embed(fields=[{"name": "n", "value": "v"}] * 26)]},
            ["embeds", "0", "fields"],
        ),
        (
            {"embeds": [_embed(fields=[{"name": "n" * 257, "value": "v"}])]},
            ["embeds", "0", "fields"],
        ),
        (
            {"embeds": [_embed(fields=[{"name": "n", "value": "v" * 1025}])]},
            ["embeds", "0", "fields"],
        ),
        ({"embeds": [_embed(fields=[{"name": "n", "value": "  "}])]}, ["embeds", "0", "fields"]),
        ({"embeds": [_embed(footer={"text": "f" * 2049})]}, ["embeds", "0", "footer"]),
        ({"embeds": [_embed(author={"name": "a" * 257})]}, ["embeds", "0", "author"]),
        (  # every field within its own limit, 7,000 together
            {
                "embeds": [
                    _embed(description="d" * 4000, fields=[{"name": "n", "value": "v" * 1000}] * 3)
                ]
            },
            ["embeds", "_errors"],
        ),
        ({"content": "x", "nonce": "n" * 26}, ["nonce"]),
    ],
)
async def test_message_limits_are_50035_with_an_errors_tree(
    fake: FakeDiscord, http: aiohttp.ClientSession, body: dict[str, Any], path: list[str]
) -> None:
    reply = await _post(http, fake, f"/channels/{PUBLIC_CHANNEL}/messages", body)

    assert _code(reply) == (400, 50035)
    node = reply[1]["errors"]
    for key in path:
        node = node[key]
    assert fake.messages(PUBLIC_CHANNEL) == []


def _row(*ids: str, label: str = "ok") -> dict[str, Any]:
    return {
        "type": 1,
        "components": [{"type": 2, "style": 1, "label": label, "custom_id": i} for i in ids],
    }


@pytest.mark.parametrize(
    "components",
    [
        [_row(f"a{i}") for i in range(6)],  # six action rows
        [_row(*(f"b{i}" for i in range(6)))],  # six buttons in a row
        [_row("c" * 101)],
        [_row("d", label="L" * 81)],
        [_row("same", "same")],
        [{"type": 1, "components": []}],
    ],
)
async def test_component_rules(
    fake: FakeDiscord, http: aiohttp.ClientSession, components: list[dict[str, Any]]
) -> None:
    reply = await _post(
        http,
        fake,
        f"/channels/{MOD_CHANNEL}/messages",
        {"content": "card", "components": components},
    )

    assert _code(reply) == (400, 50035)
    assert "components" in reply[1]["errors"]


@pytest.mark.parametrize("body", [{}, {"content": ""}, {"content": "   "}, {"embeds": []}])
async def test_an_empty_message_is_50006(
    fake: FakeDiscord, http: aiohttp.ClientSession, body: dict[str, Any]
) -> None:
    reply = await _post(http, fake, f"/channels/{PUBLIC_CHANNEL}/messages", body)

    assert _code(reply) == (400, 50006)


async def test_edits_are_checked_too(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    _, mine, _ = await _post(http, fake, f"/channels/{PUBLIC_CHANNEL}/messages", {"content": "x"})
    _, theirs = fake.state.create(PUBLIC_CHANNEL, {"content": "hi"}, author=ALICE)
    path = f"/channels/{PUBLIC_CHANNEL}/messages"

    emptied = await _call(http, fake, "PATCH", f"{path}/{mine['id']}", {"content": ""})
    too_long = await _call(http, fake, "PATCH", f"{path}/{mine['id']}", {"content": "x" * 2001})
    not_mine = await _call(http, fake, "PATCH", f"{path}/{theirs['id']}", {"content": "y"})

    assert _code(emptied) == (400, 50006)
    assert _code(too_long) == (400, 50035)
    assert _code(not_mine) == (403, 50005)


async def test_nonce_dedupe_within_the_window_on_the_fakes_clock(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    body = {"content": "x", "nonce": "n1", "enforce_nonce": True}
    path = f"/channels/{PUBLIC_CHANNEL}/messages"

    first = await _post(http, fake, path, body)
    again = await _post(http, fake, path, body)
    fake.state.clock.advance(301)
    after_window = await _post(http, fake, path, body)

    assert first[1]["id"] == again[1]["id"]
    assert after_window[1]["id"] != first[1]["id"]
    assert len(fake.messages(PUBLIC_CHANNEL)) == 2


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/channels/5/messages"),
        ("GET", "/channels/5/messages"),
        ("GET", "/channels/5/messages/6"),
        ("PATCH", "/channels/5/messages/6"),
    ],
)
async def test_unknown_channels_are_10003(
    fake: FakeDiscord, http: aiohttp.ClientSession, method: str, path: str
) -> None:
    reply = await _call(http, fake, method, path, {"content": "x"} if method != "GET" else None)

    assert _code(reply) == (404, 10003)


# ---- permissions -------------------------------------------------------------------------


async def test_history_without_read_message_history_is_an_empty_200(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    _, msg, _ = await _post(http, fake, f"/channels/{PUBLIC_CHANNEL}/messages", {"content": "x"})
    await fake.set_overwrite(PUBLIC_CHANNEL, BOT_ID, deny=READ_HISTORY)

    history = await _call(http, fake, "GET", f"/channels/{PUBLIC_CHANNEL}/messages?limit=50")
    one = await _call(http, fake, "GET", f"/channels/{PUBLIC_CHANNEL}/messages/{msg['id']}")
    post = await _post(http, fake, f"/channels/{PUBLIC_CHANNEL}/messages", {"content": "y"})

    assert history[:2] == (200, [])
    assert one[0] == 403
    assert post[0] == 200  # sending does not need the history


async def test_without_view_channel_everything_is_50001(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    await fake.set_overwrite(MOD_CHANNEL, GUILD_ID, deny=VIEW, member=False)  # @everyone

    history = await _call(http, fake, "GET", f"/channels/{MOD_CHANNEL}/messages")
    post = await _post(http, fake, f"/channels/{MOD_CHANNEL}/messages", {"content": "x"})
    await fake.set_overwrite(MOD_CHANNEL, BOT_ROLE, allow=VIEW, member=False)  # a role allow wins
    allowed = await _post(http, fake, f"/channels/{MOD_CHANNEL}/messages", {"content": "x"})

    assert _code(history) == (403, 50001)
    assert _code(post) == (403, 50001)
    assert allowed[0] == 200


async def test_posting_needs_send_messages_and_in_threads_send_in_threads() -> None:
    async with serve_fake(bot_permissions=BOT_PERMS & ~SEND_IN_THREADS) as fake:
        await fake.set_overwrite(PUBLIC_CHANNEL, BOT_ID, deny=SEND)
        async with aiohttp.ClientSession() as http:
            public = await _post(
                http, fake, f"/channels/{PUBLIC_CHANNEL}/messages", {"content": "x"}
            )
            thread = await _post(
                http, fake, f"/channels/{GENERAL_THREAD}/messages", {"content": "x"}
            )
            general = await _post(
                http, fake, f"/channels/{GENERAL_CHANNEL}/messages", {"content": "x"}
            )

    assert _code(public) == (403, 50013)
    assert _code(thread) == (403, 50013)
    assert general[0] == 200


def test_permissions_follow_discords_order() -> None:
    perms = guild_permissions()
    perms.set_overwrite(PUBLIC_CHANNEL, Overwrite(GUILD_ID, ROLE, deny=SEND))
    perms.set_overwrite(PUBLIC_CHANNEL, Overwrite(MOD_ROLE, ROLE, allow=SEND))
    perms.set_overwrite(PUBLIC_CHANNEL, Overwrite(MOD, MEMBER, deny=SEND))

    assert not perms.in_channel(ALICE, PUBLIC_CHANNEL) & SEND  # @everyone denied
    assert not perms.in_channel(MOD, PUBLIC_CHANNEL) & SEND  # the member overwrite comes last
    assert perms.in_channel(ADMIN, PUBLIC_CHANNEL) == ALL  # the owner has everything
    assert perms.in_channel(ALICE, GENERAL_THREAD) == perms.in_channel(ALICE, GENERAL_CHANNEL)


async def test_dms_can_be_closed(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    fake.state.dm_blocked.add(ALICE)
    _, dm, _ = await _post(http, fake, "/users/@me/channels", {"recipient_id": ALICE})

    reply = await _post(http, fake, f"/channels/{dm['id']}/messages", {"content": "hi"})

    assert _code(reply) == (403, 50007)


async def test_overwrites_reach_the_client_cache(
    monkeypatch: pytest.MonkeyPatch, fake: FakeDiscord
) -> None:
    fake.patch(monkeypatch)
    client, _ = build_discord(StubSink(), guild_ready_timeout=0.05)
    async with running(client):
        channel = client.get_channel(PUBLIC_CHANNEL)
        assert isinstance(channel, discord.TextChannel)
        me = channel.guild.me
        assert channel.permissions_for(me).read_message_history

        await fake.set_overwrite(PUBLIC_CHANNEL, BOT_ID, deny=READ_HISTORY)
        await _settle(client)

        channel = client.get_channel(PUBLIC_CHANNEL)
        assert isinstance(channel, discord.TextChannel)
        assert not channel.permissions_for(channel.guild.me).read_message_history
        assert channel.permissions_for(channel.guild.me).embed_links


async def _settle(client: discord.Client) -> None:
    await asyncio.sleep(0.05)  # let the client process the gateway event


# ---- rate limits -------------------------------------------------------------------------


@pytest.mark.parametrize("scope", ["user", "shared", "global"])
async def test_429s_carry_retry_after_and_their_scope(
    fake: FakeDiscord, http: aiohttp.ClientSession, scope: str
) -> None:
    fake.rate_limit("POST", rf"/channels/{PUBLIC_CHANNEL}/messages", retry_after=12.5, scope=scope)

    status, body, headers = await _post(
        http, fake, f"/channels/{PUBLIC_CHANNEL}/messages", {"content": "x"}
    )

    assert status == 429
    assert body["retry_after"] == 12.5
    assert body["global"] is (scope == "global")
    assert headers["X-RateLimit-Scope"] == scope
    assert headers["Via"]
    assert ("X-RateLimit-Global" in headers) is (scope == "global")
    assert ("X-RateLimit-Bucket" in headers) is (scope != "global")
    assert fake.messages(PUBLIC_CHANNEL) == []


async def test_cloudflare_429_is_html_without_via(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    fake.cloudflare_ban("GET", "/users/@me")

    status, body, headers = await _call(http, fake, "GET", "/users/@me")

    assert status == 429
    assert headers["Content-Type"].startswith("text/html")
    assert "Via" not in headers
    assert "<html>" in body


async def test_an_exhausted_bucket_answers_with_remaining_zero(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    fake.exhaust("POST", rf"/channels/{PUBLIC_CHANNEL}/messages", reset_after=60)

    status, _, headers = await _post(
        http, fake, f"/channels/{PUBLIC_CHANNEL}/messages", {"content": "x"}
    )

    assert status == 200
    assert headers["X-RateLimit-Remaining"] == "0"
    assert headers["X-RateLimit-Reset-After"] == "60"


# ---- the gateway -------------------------------------------------------------------------


async def test_identify_with_privileged_intents_not_enabled_is_4014(
    monkeypatch: pytest.MonkeyPatch, fake: FakeDiscord
) -> None:
    fake.patch(monkeypatch)
    client, _ = build_discord(StubSink(), intents=discord.Intents.all())

    with pytest.raises(discord.PrivilegedIntentsRequired):
        async with running(client):
            pass

    assert fake.gateway.intents[-1] & (1 << 15)  # it asked for message content


async def test_default_intents_and_enabled_privileged_ones_connect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with serve_fake(enabled_intents=1 << 15) as fake:
        fake.patch(monkeypatch)
        content = discord.Intents.default()
        content.message_content = True
        for intents in (discord.Intents.default(), content):
            client, _ = build_discord(StubSink(), intents=intents, guild_ready_timeout=0.05)
            async with running(client):
                assert client.get_guild(GUILD_ID) is not None


async def test_a_guild_without_guild_create_stays_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with serve_fake(guild_available=False) as fake:
        fake.patch(monkeypatch)
        client, _ = build_discord(StubSink(), guild_ready_timeout=0.05)
        async with running(client):
            guild = client.get_guild(GUILD_ID)  # READY's placeholder, never filled in
            assert guild is not None
            assert guild.unavailable
            assert guild.get_role(MOD_ROLE) is None
            assert client.get_channel(PUBLIC_CHANNEL) is None


def test_overlay_adds_exactly_the_required_keys() -> None:
    raw = docs_shaped_slash("joke", [], 1)

    full = overlay(raw)

    for key in REQUIRED_OVERLAY_KEYS:
        outer, _, inner = key.partition(".")
        assert (inner or outer) not in (raw[outer] if inner else raw)
        assert inner in full[outer] if inner else outer in full
