"""``/joke screen …`` on the real Bolt app against the fake Slack: a workspace's own screen."""

import json

import pytest

from bot.models import ScopeConfig
from tests.support.hostile import HOSTILE
from tests.support.slack_harness import MOD, StubSink, slack_http

pytestmark = pytest.mark.usefixtures("no_slack_env")

SCOPE = ("slack", "T0TEAM")


async def _say(sink: StubSink, *typed: str, user: str = MOD) -> list[str]:
    """Type each command in turn; the ephemeral answers."""
    answers = []
    async with slack_http(sink) as slack:
        for text in typed:
            status, body, _ = await slack.joke(text, user=user)
            assert status == 200
            answer = json.loads(body)
            assert answer["response_type"] == "ephemeral"
            answers.append(answer["text"])
    return answers


async def test_joke_screen_blocks_and_unblocks_words_for_this_workspace() -> None:
    sink = StubSink()

    answers = await _say(
        sink,
        "screen block Heck, dang* , two  words",
        "screen block heck, darn",
        "screen unblock DANG*",
    )

    config = sink.scopes[SCOPE]
    assert config.blocked_words == ("heck", "two words", "darn")
    assert (config.mod_channel, config.public_channel) != ("", "")  # the adapter's channels
    assert answers[0].startswith("Saved. Screen: ")
    assert "“heck”, “dang*”, “two words”" in answers[0]
    assert "threshold: the bot's default" in answers[2]
    assert sink.requests == []  # none of these was a joke request


async def test_joke_screen_sets_and_resets_the_threshold() -> None:
    sink = StubSink(scopes={SCOPE: ScopeConfig(*SCOPE, "CMOD", "CPUB", "", ("heck",))})

    await _say(sink, "screen threshold 0,35")
    assert sink.scopes[SCOPE].screen_threshold == 0.35
    [shown] = await _say(sink, "screen")
    await _say(sink, "screen threshold default")

    assert "threshold: 0.35" in shown
    assert "“heck”" in shown
    assert sink.scopes[SCOPE].screen_threshold is None
    assert sink.scopes[SCOPE].blocked_words == ("heck",)


@pytest.mark.parametrize(
    ("typed", "user", "said"),
    [
        ("screen block heck", "UREQ", "Only jokebot's moderators"),
        ("screen threshold 2", MOD, "0.01 to 1"),
        ("screen threshold lots", MOD, "0.01 to 1"),
        ("screen threshold nan", MOD, "0.01 to 1"),
        ("screen block ,", MOD, "/joke screen block"),
    ],
)
async def test_joke_screen_refuses_non_moderators_and_bad_values(
    typed: str, user: str, said: str
) -> None:
    sink = StubSink()

    [answer] = await _say(sink, typed, user=user)

    assert said in answer
    assert sink.scopes == {}


async def test_joke_about_screens_is_still_a_joke() -> None:
    sink = StubSink()
    async with slack_http(sink) as slack:
        await slack.joke("screen doors on a submarine", user="UREQ")

    assert [r.topic for r in sink.requests] == ["screen doors on a submarine"]


@pytest.mark.parametrize(("name", "text"), [h for h in HOSTILE if h[0] != "long"])
async def test_joke_screen_answers_keep_hostile_words_inert(name: str, text: str) -> None:
    sink = StubSink()

    [answer] = await _say(sink, f"screen block {text.replace(',', ' ')}")

    saved = sink.scopes.get(SCOPE)
    if saved is None:  # nothing left after cleanup: the usage was shown
        assert "/joke screen block" in answer
        return
    assert saved.blocked_words  # stored as typed (tidied), shown escaped
    for live in ("<!", "<@", "<http", "\x1b", "\u202e"):  # no mention, link or trick survives
        assert live not in answer
