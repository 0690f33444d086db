import asyncio
import contextlib
import json
import socket
import time
from dataclasses import dataclass

import aiohttp
import pytest

from adapters._review import GENERIC_FAILURE
from adapters.slack_adapter import EVENTS_PATH, build_slack, run_http, serve_http
from bot.errors import ConfigError
from bot.models import JokeRequest, RequestResult
from tests.support.fake_slack import FakeSlack, sign, signed_headers
from tests.support.slack_harness import SECRET, StubSink, settle, slack_config, slack_http
from tests.support.slack_payloads import command_body, new_trigger

pytestmark = pytest.mark.usefixtures("no_slack_env")


async def test_joke_is_saved_then_answered_in_the_ack() -> None:
    sink = StubSink(delay_s=0.3)  # a save that takes a while, well within the budget
    async with slack_http(sink) as slack:
        status, text, elapsed = await slack.joke("cats", user="UREQ")

        assert sink.requests  # the run was saved before Slack heard anything
        assert status == 200
        assert json.loads(text) == {"text": "Got it: cats", "response_type": "ephemeral"}
        assert 0.3 <= elapsed < 2.0
        assert slack.fake.webhooks == []  # the answer travelled in the ack
    (request,) = sink.requests
    assert request.topic == "cats"
    assert request.request_key.startswith("slack:T0TEAM:")
    origin = request.origin
    assert (origin.platform, origin.scope, origin.reply_channel) == ("slack", "T0TEAM", "CGEN")
    assert (origin.mod_channel, origin.public_channel) == ("CMOD", "CPUB")
    assert (origin.requester.user_id, origin.requester.display) == ("UREQ", "<@UREQ>")
    assert origin.requester.name == "ureq"  # the command's user_name, for other platforms


@dataclass
class FailingSink(StubSink):
    """A sink whose save raises: the store is down."""

    async def request_joke(self, request: JokeRequest) -> RequestResult:
        raise RuntimeError("database is locked")


async def test_joke_whose_save_fails_is_not_acknowledged_as_accepted() -> None:
    async with slack_http(FailingSink()) as slack:
        status, text, _ = await slack.joke("cats")
        await settle()

        assert status == 200
        assert json.loads(text)["text"] == GENERIC_FAILURE  # never "got it"
        assert slack.fake.webhooks == []


async def test_joke_from_another_workspace_is_refused() -> None:
    sink = StubSink()
    async with slack_http(sink) as slack:  # the token's workspace (auth.test) is T0TEAM
        status, text, _ = await slack.joke("cats", team="T0OTHER")
        await settle()

    assert status == 200
    assert "another Slack workspace" in json.loads(text)["text"]
    assert sink.requests == []


async def test_joke_without_topic_is_answered_in_the_ack() -> None:
    sink = StubSink()
    async with slack_http(sink) as slack:
        status, text, _ = await slack.joke("   ")

    assert status == 200
    assert "/joke cats" in text
    assert sink.requests == []


async def test_retried_delivery_starts_one_run() -> None:
    sink = StubSink()
    trigger = new_trigger()
    async with slack_http(sink) as slack:
        first = await slack.joke("cats", trigger=trigger)
        second = await slack.joke("cats", trigger=trigger, retry=1)

    assert first[0] == second[0] == 200
    assert first[1] == second[1]  # the same answer
    assert len(sink.requests) == 2
    assert sink.requests[0].request_key == sink.requests[1].request_key
    assert sink.runs == 1


async def test_forged_signature_is_refused_and_changes_nothing() -> None:
    sink = StubSink()
    async with slack_http(sink) as slack:
        body = command_body("cats", trigger=new_trigger(), response_url=slack.fake.webhook_url("x"))
        status, _, _ = await slack.post(body, secret="not-the-secret")  # noqa: S106
        await settle()

        assert status == 401
        assert slack.fake.webhooks == []
    assert sink.requests == []


async def test_stale_timestamp_is_refused_and_changes_nothing() -> None:
    sink = StubSink()
    async with slack_http(sink) as slack:
        body = command_body("cats", trigger=new_trigger(), response_url=slack.fake.webhook_url("x"))
        status, _, _ = await slack.post(body, timestamp=int(time.time()) - 301)
        await settle()

        assert status == 401
    assert sink.requests == []


async def test_slow_save_acks_working_on_it_then_answers_via_response_url() -> None:
    sink = StubSink(delay_s=1.0)
    async with slack_http(sink, request_budget_s=0.2) as slack:
        start = time.monotonic()
        status, text, elapsed = await slack.joke("cats")

        assert status == 200
        assert 0.2 <= elapsed < 0.6  # the deadline guard: Slack's 3 s are never missed
        assert "Working on it" in json.loads(text)["text"]
        (answer,) = await slack.fake.wait_webhooks(1)
        assert time.monotonic() - start >= 1.0
    assert answer["text"] == "Got it: cats"


@pytest.mark.parametrize(
    ("signed", "expected"), [(False, 401), (True, 400)], ids=["unsigned", "signed"]
)
async def test_a_body_that_is_not_utf8_is_refused_without_a_traceback(
    signed: bool, expected: int, caplog: pytest.LogCaptureFixture
) -> None:
    sink = StubSink()
    raw = b"command=%2Fjoke&text=caf\xe9\xff\xfe"  # Latin-1 bytes: not UTF-8
    async with slack_http(sink) as slack:
        ts = int(time.time())
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Slack-Request-Timestamp": str(ts),
            "X-Slack-Signature": sign(SECRET if signed else "wrong", ts, raw),
        }
        async with slack.session.post(slack.url, data=raw, headers=headers) as resp:
            status = resp.status
        await settle()

    assert status == expected  # never 500
    assert sink.requests == []
    assert not [r for r in caplog.records if r.levelname == "ERROR" or r.exc_info]


async def test_http_mode_needs_a_signing_secret() -> None:
    async with FakeSlack() as fake:
        config = slack_config(fake, signing_secret="")
        app, _ = build_slack(config, StubSink())

        with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET"):
            async with serve_http(app, config, host="127.0.0.1", port=0):
                pass


async def test_http_mode_refuses_to_start_when_it_cannot_post() -> None:
    async with FakeSlack() as fake:
        fake.channels["CMOD"].is_member = False
        config = slack_config(fake)
        app, _ = build_slack(config, StubSink())

        with pytest.raises(ConfigError) as caught:
            async with serve_http(app, config, host="127.0.0.1", port=0):
                pass

    assert "invite it: /invite @jokebot in #mods" in str(caught.value)
    assert fake.calls_to("chat.postMessage") == []


async def test_shutdown_lets_acked_work_finish() -> None:
    sink = StubSink(delay_s=0.5)
    async with FakeSlack() as fake:
        config = slack_config(fake, request_budget_s=0.1)  # acks "working on it" first
        app, _ = build_slack(config, sink)
        body = command_body("cats", trigger=new_trigger(), response_url=fake.webhook_url("x"))
        async with (
            serve_http(app, config, host="127.0.0.1", port=0) as port,
            aiohttp.ClientSession() as session,
        ):
            url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
            headers = signed_headers(SECRET, body)
            async with session.post(url, data=body.encode(), headers=headers) as resp:
                assert resp.status == 200
            assert sink.requests == []  # acked; the sink is still busy

        assert [r.topic for r in sink.requests] == ["cats"]
        assert len(fake.webhooks) == 1


async def test_http_mode_reports_connected_only_once_the_port_accepts() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    reports: list[tuple[bool, str, bool]] = []

    def report(connected: bool, detail: str) -> None:
        # Called from the event loop: a blocking connect succeeds only on a bound listener.
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            accepts = True
        except OSError:
            accepts = False
        reports.append((connected, detail, accepts))

    async with FakeSlack() as fake:
        config = slack_config(fake, app_token="")
        app, _ = build_slack(config, StubSink())
        task = asyncio.create_task(
            run_http(app, config, host="127.0.0.1", port=port, on_connection=report)
        )
        try:
            async with asyncio.timeout(5):
                while len(reports) < 2:
                    await asyncio.sleep(0.01)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    assert reports == [
        (False, "starting the listener", False),  # the preflight runs before the bind
        (True, f"listening on 127.0.0.1:{port}{EVENTS_PATH}", True),
    ]
