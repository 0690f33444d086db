"""``/joke link [CODE]`` on the real Bolt app against the fake Slack: codes and linking."""

import json

import pytest

from bot.models import Surface
from tests.support.slack_harness import MOD, StubSink, slack_http

pytestmark = pytest.mark.usefixtures("no_slack_env")


async def test_joke_link_shows_a_code_for_this_workspace_to_a_moderator() -> None:
    sink = StubSink()
    async with slack_http(sink) as slack:
        status, text, _ = await slack.joke("link", user=MOD)

    assert status == 200
    answer = json.loads(text)
    assert answer["response_type"] == "ephemeral"
    # Slack mrkdwn as meant: the code in bold, the command as code, nothing escaped
    assert answer["text"] == (
        "Link code *ABCD-EFGH* (one use, valid 10 minutes). In the Discord channel where "
        "moderators should also review this workspace's jokes, run `/jokelink code:ABCD-EFGH`."
    )
    assert sink.codes == [("slack", "T0TEAM")]
    assert sink.requests == []  # not a joke about "link"


async def test_joke_link_with_a_code_makes_this_channel_a_review_surface() -> None:
    sink = StubSink()
    async with slack_http(sink) as slack:
        _, text, _ = await slack.joke("link abcd-efgh", user=MOD)

    assert "now reviewed in this channel" in json.loads(text)["text"]
    assert sink.links == [("ABCD-EFGH", Surface("slack", "CGEN"))]


@pytest.mark.parametrize(
    ("typed", "user", "said"),
    [
        ("link", "UREQ", "Only jokebot's moderators"),
        ("link NOPE-NOPE", MOD, "unknown, already used or expired"),
    ],
)
async def test_joke_link_refuses_non_moderators_and_bad_codes(
    typed: str, user: str, said: str
) -> None:
    sink = StubSink()
    async with slack_http(sink) as slack:
        _, text, _ = await slack.joke(typed, user=user)

    assert said in json.loads(text)["text"]
    assert sink.codes == []
    assert sink.links == []


async def test_joke_about_linking_is_still_a_joke() -> None:
    sink = StubSink()
    async with slack_http(sink) as slack:
        await slack.joke("link between cats and dogs", user="UREQ")

    assert [r.topic for r in sink.requests] == ["link between cats and dogs"]
