"""The draft screen: its parts and their order, the result it records, and the joke flow
screening drafts with a classifier, a scope's words and its threshold.
"""

from typing import Any

import pytest

from bot.errors import BadRequest
from bot.joke import REJECT, JokeOptions, build_joke_flow, new_joke_state, request_state
from bot.joke.screen import Screen, ScreenPolicy, ScreenResult, scope_word
from bot.models import Actor, JokeRequest, Origin, ScopeConfig
from tests.bot.joke.test_flow import J1, J2, Run
from tests.support.classifier import FakeClassifier
from tests.support.llm import FakeLLM

RUDE = "Why did the cat sit there? Because it was a rude little thing."


def test_screen_result_fires_in_screen_order() -> None:
    result = ScreenResult(
        blocked="nazi*", scope_word="heck", score=0.9, threshold=0.5, moderation="flagged"
    )

    assert result.fired == ("blocklist", "scope_words", "classifier", "moderation")
    assert result.detail == "nazi*"


@pytest.mark.parametrize(
    ("result", "fired", "detail"),
    [
        (ScreenResult(score=0.49, threshold=0.5), (), ""),
        (ScreenResult(score=0.5, threshold=0.5), ("classifier",), "score 0.50 >= 0.5"),
        (ScreenResult(score=None, threshold=0.5), (), ""),  # no classifier part
        (ScreenResult(scope_word="dang*", score=0.7, threshold=0.9), ("scope_words",), "dang*"),
        (ScreenResult(moderation="none"), (), ""),
        (ScreenResult(moderation="clean"), (), ""),
        (ScreenResult(moderation="flagged"), ("moderation",), ""),
    ],
)
def test_screen_result_fired_and_detail(
    result: ScreenResult, fired: tuple[str, ...], detail: str
) -> None:
    assert (result.fired, result.detail) == (fired, detail)


def test_screen_result_json_names_every_part() -> None:
    result = ScreenResult(score=0.123456, threshold=0.3, classifier="c", moderation="clean")

    assert result.to_json() == {
        "fired": [],
        "blocked": "",
        "scope_word": "",
        "score": 0.1235,
        "threshold": 0.3,
        "classifier": "c",
        "moderation": "clean",
    }


@pytest.mark.parametrize(
    ("text", "words", "hit"),
    [
        ("What the heck is a cat?", ("heck",), "heck"),
        ("Two HECKS walk into a bar", ("heck",), "heck"),  # plural, any case
        ("Checkmate, said the cat", ("heck",), None),  # whole words only
        ("Dangerous dangling cats", ("dang*",), "dang*"),  # a stem
        ("The h3ck you say", ("heck",), "heck"),  # leetspeak folded as the bot's list is
        ("Tuna-fish sandwiches", ("tuna fish",), "tuna fish"),  # a phrase, any separator
        ("Plain cats", (), None),
    ],
)
def test_scope_words_match_like_the_blocklist(
    text: str, words: tuple[str, ...], hit: str | None
) -> None:
    assert scope_word(text, words) == hit


async def test_screen_local_scores_even_when_a_blocklist_fired() -> None:
    classifier = FakeClassifier({"Hitler": 0.2})

    result = await Screen(classifier).local("Why did Hitler like cats?", ScreenPolicy())

    assert result.fired == ("blocklist",)
    assert result.score == 0.2  # recorded for the audit log all the same
    assert result.moderation == "skipped"
    assert classifier.scored == ["Why did Hitler like cats?"]


async def test_screen_moderated_adds_the_providers_verdict() -> None:
    screen = Screen()
    local = await screen.local(J1, ScreenPolicy())

    flagged = await screen.moderated(local, J1, FakeLLM(moderation={"cat": True}))
    clean = await screen.moderated(local, J1, FakeLLM(moderation={"dog": True}))
    none = await screen.moderated(local, J1, FakeLLM())

    assert [r.moderation for r in (flagged, clean, none)] == ["flagged", "clean", "none"]
    assert flagged.fired == ("moderation",)


# --- the joke flow with a classifier ----------------------------------------


async def started(
    llm: FakeLLM, classifier: FakeClassifier, shared: Any = None, **options: Any
) -> Run:
    run = Run(build_joke_flow(llm, classifier=classifier, **options))
    await run.start(shared or new_joke_state("cats", "Alice", max_attempts=5))
    return run


async def test_joke_draft_the_classifier_scores_offensive_is_redrafted_silently() -> None:
    llm = FakeLLM(RUDE, J1, moderation={})
    classifier = FakeClassifier({"rude": 0.93})

    run = await started(llm, classifier)

    assert run.wait.payload["draft"] == J1
    assert run.shared["screened_out"] == 1
    [audit] = run.audits("screened_out")
    assert (audit["reason"], audit["detail"], audit["text"]) == (
        "classifier",
        "score 0.93 >= 0.5",
        RUDE,
    )
    assert audit["screen"]["fired"] == ["classifier"]
    assert audit["screen"]["score"] == 0.93
    assert audit["screen"]["classifier"] == "fake-classifier"
    assert llm.moderated == [J1]  # the provider is not asked about a draft already out
    assert run.payloads("notify") == []


async def test_joke_passed_draft_carries_its_screen_result_to_the_review() -> None:
    llm = FakeLLM(J1, moderation={})
    classifier = FakeClassifier(default=0.12)

    run = await started(llm, classifier)

    screen = run.shared["screen"]
    assert screen == {
        "fired": [],
        "blocked": "",
        "scope_word": "",
        "score": 0.12,
        "threshold": 0.5,
        "classifier": "fake-classifier",
        "moderation": "clean",
    }
    [review] = run.audits("review_requested")
    assert review["screen"] == screen


async def test_joke_scope_threshold_and_words_come_from_the_state() -> None:
    llm = FakeLLM(RUDE, "What do cats eat for breakfast? Mice Krispies!", J2)
    classifier = FakeClassifier({"rude": 0.3})  # under the default 0.5, over the scope's 0.25
    shared = new_joke_state(
        "cats", "Alice", max_attempts=5, screen=ScreenPolicy(("krispies",), 0.25)
    )

    run = await started(llm, classifier, shared)

    assert run.wait.payload["draft"] == J2
    reasons = [(a["reason"], a["detail"]) for a in run.audits("screened_out")]
    assert reasons == [("classifier", "score 0.30 >= 0.25"), ("scope_words", "krispies")]


async def test_joke_screen_settings_survive_json_and_a_redraft() -> None:
    llm = FakeLLM(J1, RUDE, J2)
    classifier = FakeClassifier({"rude": 0.3})
    shared = new_joke_state("cats", "Alice", max_attempts=5, screen=ScreenPolicy((), 0.25))

    run = await started(llm, classifier, shared)
    await run.decide(REJECT)  # the next draft is screened with the run's own threshold

    assert run.wait.payload["draft"] == J2
    assert [a["reason"] for a in run.audits("screened_out")] == ["classifier"]
    assert run.shared["screen_threshold"] == 0.25


async def test_joke_state_from_before_the_screen_settings_uses_the_flow_default() -> None:
    llm = FakeLLM(RUDE, J1)
    classifier = FakeClassifier({"rude": 0.3})
    old: Any = new_joke_state("cats", "Alice", max_attempts=5)
    for key in ("screen_words", "screen_threshold", "screen"):
        del old[key]  # a checkpoint written before these keys existed

    run = await started(llm, classifier, old, screen_threshold=0.2)

    assert run.wait.payload["draft"] == J1
    assert [a["detail"] for a in run.audits("screened_out")] == ["score 0.30 >= 0.2"]


def test_joke_topic_with_a_scope_word_is_refused() -> None:
    with pytest.raises(BadRequest):
        new_joke_state("heck cats", "Alice", max_attempts=5, screen=ScreenPolicy(("heck",)))


def _request() -> JokeRequest:
    alice = Actor("discord", "1", "Alice")
    return JokeRequest("k1", Origin("discord", "g1", alice, "mods", "fun"), "cats")


@pytest.mark.parametrize(
    ("config", "words", "threshold"),
    [
        (None, [], 0.6),
        (ScopeConfig("discord", "g1", "m", "p"), [], 0.6),
        (ScopeConfig("discord", "g1", "m", "p", "", ("heck",), 0.3), ["heck"], 0.3),
    ],
)
def test_request_state_takes_the_scopes_screen_or_the_default(
    config: ScopeConfig | None, words: list[str], threshold: float
) -> None:
    state = request_state(_request(), config, JokeOptions(screen_threshold=0.6))

    assert (state["screen_words"], state["screen_threshold"]) == (words, threshold)


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.5])
def test_joke_options_refuse_a_threshold_outside_0_to_1(threshold: float) -> None:
    with pytest.raises(ValueError, match="screen_threshold"):
        JokeOptions(screen_threshold=threshold)
