import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

from adapters.slack_adapter import build_slack, preflight, run_socket_mode
from adapters.slack_adapter._buttons import EDIT_ACTION, EDIT_BLOCK
from adapters.slack_adapter._client import _watchdog
from bot.errors import ConfigError
from bot.models import Actor, EffectKind, Origin, OutboxEffect
from tests.support.fake_slack import APP_TOKEN, FakeSlack
from tests.support.slack_harness import MOD, StubSink, card_message, settle, slack_config
from tests.support.slack_payloads import (
    click_payload,
    command_fields,
    new_trigger,
    submission_payload,
)

ORIGIN = Origin("slack", "T0TEAM", Actor("slack", "UREQ", "<@UREQ>"), "CMOD", "CPUB", "CGEN")
CARD = {
    "topic": "cats",
    "draft": "A cat joke.",
    "attempt": 1,
    "max_attempts": 3,
    "model_label": "m",
}


pytestmark = pytest.mark.usefixtures("no_slack_env")


@dataclass
class Socket:
    fake: FakeSlack
    sink: StubSink
    task: "asyncio.Task[None]"


@asynccontextmanager
async def socket_mode(**overrides: Any) -> AsyncIterator[Socket]:
    sink = StubSink()
    async with FakeSlack() as fake:
        config = slack_config(fake, signing_secret="", **overrides)
        app, _ = build_slack(config, sink)
        task = asyncio.create_task(run_socket_mode(app, config))
        try:
            await fake.wait_until(lambda: fake.sockets == 1 or task.done())
            assert not task.done(), task.exception()
            yield Socket(fake, sink, task)
            await settle()
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


def command(fake: FakeSlack, text: str, trigger: str | None = None) -> dict[str, str]:
    return command_fields(
        text, trigger=trigger or new_trigger(), response_url=fake.webhook_url("cmd")
    )


async def test_slash_command_over_the_socket_is_acked_then_answered() -> None:
    async with socket_mode() as s:
        envelope = await s.fake.push_envelope("slash_commands", command(s.fake, "cats"))

        ack = await s.fake.wait_ack(envelope)

    answer = {"text": "Got it: cats", "response_type": "ephemeral"}
    assert ack == {"envelope_id": envelope, "payload": answer}  # saved, then answered in the ack
    assert s.fake.webhooks == []
    assert [r.topic for r in s.sink.requests] == ["cats"]
    assert s.fake.calls_to("apps.connections.open")[0].auth == "Bearer xapp-test"


async def test_usage_travels_in_the_ack_payload() -> None:
    async with socket_mode() as s:
        envelope = await s.fake.push_envelope("slash_commands", command(s.fake, ""))

        ack = await s.fake.wait_ack(envelope)

    assert "/joke cats" in ack["payload"]["text"]
    assert s.sink.requests == []


async def test_redelivered_envelope_starts_one_run() -> None:
    async with socket_mode() as s:
        fields = command(s.fake, "cats", trigger="T-same")
        first = await s.fake.push_envelope("slash_commands", fields)
        second = await s.fake.push_envelope("slash_commands", fields, retry=1)
        await s.fake.wait_ack(first)
        await s.fake.wait_ack(second)

    assert s.sink.runs == 1


async def test_click_and_modal_over_the_socket() -> None:
    async with socket_mode() as s:
        app_sender = build_slack(slack_config(s.fake), StubSink())[1]
        effect = OutboxEffect(
            "r:1", "r", EffectKind.REVIEW_POST, ORIGIN, {"token": "tok1", "card": CARD}, "k"
        )
        await app_sender.send(effect)
        card = card_message(s.fake)

        edit = click_payload(
            card, "CMOD", "edit", user=MOD, trigger="T-e", response_url=s.fake.webhook_url("c")
        )
        await s.fake.wait_ack(await s.fake.push_envelope("interactive", edit))
        (call,) = await s.fake.wait_for("views.open")
        blank = submission_payload(
            call.params["view"], user=MOD, values={EDIT_BLOCK: {EDIT_ACTION: ""}}
        )
        refused = await s.fake.wait_ack(await s.fake.push_envelope("interactive", blank))
        good = submission_payload(
            call.params["view"], user=MOD, values={EDIT_BLOCK: {EDIT_ACTION: "Better."}}
        )
        accepted = await s.fake.wait_ack(await s.fake.push_envelope("interactive", good))

    assert refused["payload"]["response_action"] == "errors"
    assert "payload" not in accepted or not accepted["payload"]
    (decision,) = s.sink.decisions
    assert (decision.action, dict(decision.data)) == ("edit", {"text": "Better."})


async def test_disconnect_request_reconnects_and_keeps_working() -> None:
    async with socket_mode() as s:
        await s.fake.disconnect()
        await s.fake.wait_until(lambda: s.fake.links == 2 and s.fake.sockets == 1)
        envelope = await s.fake.push_envelope("slash_commands", command(s.fake, "dogs"))
        await s.fake.wait_ack(envelope)

    assert [r.topic for r in s.sink.requests] == ["dogs"]
    assert s.fake.connections_opened == 2


async def test_socket_mode_needs_an_app_token() -> None:
    async with FakeSlack() as fake:
        config = slack_config(fake, app_token="")
        app, _ = build_slack(config, StubSink())

        with pytest.raises(ConfigError, match="SLACK_APP_TOKEN"):
            await run_socket_mode(app, config)


async def test_start_refuses_when_the_bot_is_not_in_a_channel() -> None:
    async with FakeSlack() as fake:
        fake.channels["CPUB"].is_member = False
        config = slack_config(fake)
        app, _ = build_slack(config, StubSink())

        with pytest.raises(ConfigError) as caught:
            await run_socket_mode(app, config)

        assert "/invite @jokebot in #jokes" in str(caught.value)
        assert "SLACK_PUBLIC_CHANNEL" in str(caught.value)
        assert fake.calls_to("chat.postMessage") == []  # the check never posts
        assert fake.sockets == 0


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"mod_channel": "CNOPE"}, "SLACK_MOD_CHANNEL=CNOPE: channel not found"),
        ({"mod_channel": ""}, "set SLACK_MOD_CHANNEL"),
        ({"bot_token": "xoxb-wrong"}, "SLACK_BOT_TOKEN was refused (invalid_auth)"),
        ({"moderator_group": "S404"}, "SLACK_MODERATOR_GROUP=S404: no_such_subteam"),
    ],
)
async def test_preflight_says_what_to_fix(overrides: dict[str, str], expected: str) -> None:
    async with FakeSlack() as fake:
        config = slack_config(fake, **overrides)
        app, _ = build_slack(config, StubSink())

        with pytest.raises(ConfigError) as caught:
            await preflight(app.client, config)

    assert expected in str(caught.value)


async def test_preflight_refuses_a_token_of_another_workspace() -> None:
    async with FakeSlack() as fake:  # its auth.test answers T0TEAM
        config = slack_config(fake, team_id="T0ELSE")
        app, _ = build_slack(config, StubSink())

        with pytest.raises(ConfigError) as caught:
            await preflight(app.client, config)

    assert "SLACK_TEAM_ID=T0ELSE" in str(caught.value)
    assert "T0TEAM" in str(caught.value)


async def test_preflight_says_user_groups_need_a_paid_plan() -> None:
    async with FakeSlack(usergroups={"SMODS": ["U1"]}, plan="free") as fake:
        config = slack_config(fake, moderator_group="SMODS")
        app, _ = build_slack(config, StubSink())

        with pytest.raises(ConfigError) as caught:
            await preflight(app.client, config)

    message = str(caught.value)
    assert "SLACK_MODERATOR_GROUP=SMODS" in message
    assert "paid Slack plan" in message
    assert "SLACK_MODERATORS" in message
    assert "group id (S…)" not in message  # the old hint pointed the wrong way


async def test_preflight_warns_when_history_is_unreadable() -> None:
    async with FakeSlack() as fake:
        fake.fail_next(
            "conversations.history", 1, status=200, error="missing_scope", retry_after=None
        )
        config = slack_config(fake)
        app, _ = build_slack(config, StubSink())

        warnings = await preflight(app.client, config)

    assert len(warnings) == 1
    assert "channels:history" in warnings[0]


async def test_watchdog_reconnects_a_dead_socket() -> None:
    async with FakeSlack() as fake:
        app, _ = build_slack(slack_config(fake), StubSink())
        handler = AsyncSocketModeHandler(app, APP_TOKEN, web_client=app.client)  # not connected
        watchdog = asyncio.create_task(_watchdog(handler, 0.01))
        try:
            await fake.wait_until(lambda: fake.links == 1)
        finally:
            watchdog.cancel()
            with pytest.raises(asyncio.CancelledError):
                await watchdog
            await handler.client.close()  # type: ignore[no-untyped-call]  # slack_sdk leaves this untyped

    assert fake.connections_opened == 1


async def test_socket_mode_reports_hello_and_a_dropped_socket() -> None:
    reports: list[tuple[bool, str]] = []
    async with FakeSlack() as fake:
        config = slack_config(fake, signing_secret="")
        app, _ = build_slack(config, StubSink())
        task = asyncio.create_task(
            run_socket_mode(
                app,
                config,
                on_connection=lambda up, why: reports.append((up, why)),
                presence_s=0.02,
            )
        )
        try:
            async with asyncio.timeout(5):
                while (True, "hello on the socket") not in reports:
                    await asyncio.sleep(0.01)
                await fake.go_down()
                while reports[-1][0]:
                    await asyncio.sleep(0.01)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    assert reports == [
        (False, "connecting"),
        (True, "hello on the socket"),
        (False, "socket closed, reconnecting"),
    ]
