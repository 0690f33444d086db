"""``/joke status`` on the real Bolt app against the fake Slack: a private report, escaped."""

import json

import pytest

from bot.models import Actor, RequestView, Stage, StatusReport
from tests.support.slack_harness import StubSink, slack_http

pytestmark = pytest.mark.usefixtures("no_slack_env")

REPORT = StatusReport(
    (
        RequestView("r3", "<!channel> & *bold* <@U999>", Stage.IN_REVIEW, 980.0, position=3),
        RequestView("r2", "dogs", Stage.DRAFTING, 970.0),
        RequestView("r1", "cats", Stage.EXPIRED, 900.0),
    ),
    next_request_at=0.0,
    now=1000.0,
)


async def test_joke_status_acks_the_requesters_report_privately() -> None:
    sink = StubSink(report=REPORT)
    async with slack_http(sink) as slack:
        status, text, _ = await slack.joke("status", user="UREQ")

    assert status == 200
    answer = json.loads(text)
    assert answer["response_type"] == "ephemeral"
    assert sink.requests == []  # not a joke about "status"
    assert sink.asked_status == [Actor("slack", "UREQ", "<@UREQ>")]
    assert answer["text"].splitlines() == [
        "👀 “&lt;!channel&gt; &amp; *bold* &lt;@U999&gt;”: waiting for a moderator "
        "(#3 in the review queue)",
        "✍️ “dogs”: being drafted",
        "⌛ “cats”: not reviewed in time, <!date^900^{date_short_pretty} at {time}|100 s ago>",
        "You can ask for another joke now.",
    ]


async def test_joke_status_with_nothing_to_show_says_so() -> None:
    sink = StubSink()
    async with slack_http(sink) as slack:
        _, text, _ = await slack.joke("STATUS", user="UREQ")

    assert json.loads(text)["text"].splitlines() == [
        "You have no joke requests in progress, and none were decided in the last day.",
        "You can ask for another joke now.",
    ]


async def test_joke_status_failing_gets_a_generic_answer() -> None:
    class Broken(StubSink):
        async def status(self, requester: Actor) -> StatusReport:
            raise RuntimeError("store down")

    async with slack_http(Broken()) as slack:
        _, text, _ = await slack.joke("status", user="UREQ")

    assert "went wrong" in json.loads(text)["text"]
