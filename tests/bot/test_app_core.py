"""The production wiring end to end: service -> runtime -> joke flow -> outbox, over SQLite."""

import asyncio
from dataclasses import replace
from pathlib import Path

import pytest

from bot.errors import BadRequest
from bot.joke import JokeOptions
from bot.models import (
    Actor,
    DecideStatus,
    DecisionRequest,
    JokeRequest,
    Origin,
    RequestStatus,
    ScopeConfig,
    Stage,
)
from bot.runtime import CrashPoints, SimulatedCrash
from tests.support.classifier import FakeClassifier
from tests.support.clock import FakeClock
from tests.support.llm import FakeLLM, GatedLLM
from tests.support.platform import FakePlatform
from tests.support.stack import Stack, joke_stack

REQUESTER = Actor("fake", "u1", "@ann")
MOD = Actor("fake", "m1", "@mod", is_moderator=True)


def origin(mod: str = "mods", public: str = "fun") -> Origin:
    return Origin("fake", "guild1", REQUESTER, mod, public, "general")


async def ask(stack: Stack, key: str, topic: str = "cats", **kw: str) -> str:
    result = await stack.service.request_joke(JokeRequest(key, origin(**kw), topic))
    assert result.status == RequestStatus.ACCEPTED, result.message
    assert result.run_id is not None
    await stack.drain()
    return result.run_id


async def click(stack: Stack, token: str, action: str, n: int, **data: str) -> DecideStatus:
    request = DecisionRequest(token, action, MOD, f"i{n}", data)
    result = await stack.service.decide(request)
    await stack.drain()
    return result.status


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform(FakeClock())


async def test_core_reject_then_approve_publishes_once(
    tmp_path: Path, platform: FakePlatform
) -> None:
    llm = FakeLLM("Why did the cat nap? To recharge.", "What do cats read? Catalogs!")
    async with joke_stack(tmp_path, llm=llm, serve=False) as stack:
        stack.register("fake", platform)
        run_id = await ask(stack, "fake:1")

        first = platform.latest_token(run_id)
        assert first is not None
        assert await click(stack, first, "reject", 1, reason="meh") == DecideStatus.APPLIED
        second = platform.latest_token(run_id)
        assert second is not None
        assert second != first
        assert await click(stack, second, "approve", 2) == DecideStatus.APPLIED
        stale = await stack.service.decide(DecisionRequest(first, "approve", MOD, "i3"))

    assert [m.payload["text"] for m in platform.public_posts(run_id)] == [
        "What do cats read? Catalogs!"
    ]
    assert stale.status == DecideStatus.STALE
    assert len(platform.cards(run_id)) == 2


async def test_core_pending_review_survives_restart_and_is_listed(
    tmp_path: Path, platform: FakePlatform
) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM("Why? Because."), serve=False) as stack:
        stack.register("fake", platform)
        run_id = await ask(stack, "fake:1")
        await stack.restart()

        pending = await stack.service.pending_reviews("fake", "guild1")
        status_before = await stack.service.run_status(run_id)
        assert await click(stack, pending[0].token, "approve", 1) == DecideStatus.APPLIED
        status_after = await stack.service.run_status(run_id)

    assert [w.run_id for w in pending] == [run_id]
    assert pending[0].payload["draft"] == "Why? Because."
    assert status_before == "waiting"
    assert status_after == "finished"
    assert len(platform.public_posts(run_id)) == 1


async def test_core_request_is_idempotent_and_cooldown_applies_to_new_ones(
    tmp_path: Path, platform: FakePlatform
) -> None:
    options = JokeOptions(cooldown_s=30.0)
    async with joke_stack(tmp_path, llm=FakeLLM("A joke."), options=options) as stack:
        stack.register("fake", platform)
        first = await stack.service.request_joke(JokeRequest("k1", origin(), "cats"))
        again = await stack.service.request_joke(JokeRequest("k1", origin(), "cats"))
        other = await stack.service.request_joke(JokeRequest("k2", origin(), "dogs"))

    assert again == first
    assert other.status == RequestStatus.REFUSED
    assert "another joke in 30 s" in other.message


async def test_core_cooldown_and_queue_hold_across_a_restart(
    tmp_path: Path, platform: FakePlatform
) -> None:
    options = JokeOptions(cooldown_s=30.0, scope_max_active=1)
    others = [Actor("fake", f"u{n}", f"@u{n}") for n in (2, 3)]
    async with joke_stack(tmp_path, llm=FakeLLM("A joke."), options=options) as stack:
        stack.register("fake", platform)
        await stack.service.request_joke(JokeRequest("k1", origin(), "cats"))
        lined = [
            await stack.service.request_joke(
                JokeRequest(f"k{n + 2}", replace(origin(), requester=who), "dogs")
            )
            for n, who in enumerate(others)
        ]
        await stack.restart()
        stack.clock.advance(10)
        cooling = await stack.service.request_joke(JokeRequest("k9", origin(), "owls"))
        status = await stack.service.status(others[1])

    assert [r.status for r in lined] == [RequestStatus.ACCEPTED] * 2
    assert "You're #1 in line" in lined[0].message
    assert "You're #2 in line" in lined[1].message
    assert cooling.status == RequestStatus.REFUSED
    assert "another joke in 20 s" in cooling.message
    assert [(v.stage, v.position) for v in status.requests] == [(Stage.QUEUED, 2)]


async def test_core_unconfigured_scope_is_refused_then_works_after_config(
    tmp_path: Path, platform: FakePlatform
) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM("A joke."), serve=False) as stack:
        stack.register("fake", platform)
        refused = await stack.service.request_joke(JokeRequest("k1", origin("", ""), "cats"))
        await stack.service.save_scope(ScopeConfig("fake", "guild1", "mods2", "fun2", "role"))
        run_id = await ask(stack, "k2", mod="", public="")

    assert refused.status == RequestStatus.REFUSED
    assert "/jokeconfig" in refused.message
    assert [m.channel for m in platform.cards(run_id)] == ["mods2"]


@pytest.mark.parametrize("topic", ["", "   ", "\x00\x07"])
async def test_core_bad_topic_is_refused_and_starts_nothing(
    tmp_path: Path, platform: FakePlatform, topic: str
) -> None:
    llm = FakeLLM("A joke.")
    async with joke_stack(tmp_path, llm=llm, serve=False) as stack:
        stack.register("fake", platform)
        result = await stack.service.request_joke(JokeRequest("k1", origin(), topic))
        await stack.drain()

    assert result.status == RequestStatus.REFUSED
    assert "topic" in result.message.lower()
    assert platform.messages == []
    assert llm.calls == []


async def test_core_clean_shutdown_releases_leases_so_a_restart_resumes_at_once(
    tmp_path: Path, platform: FakePlatform
) -> None:
    llm = GatedLLM("Why? Because.")  # a draft in progress when the bot stops
    async with joke_stack(tmp_path, llm=llm) as stack:
        stack.register("fake", platform)
        await stack.service.request_joke(JokeRequest("k1", origin(), "cats"))
        await asyncio.wait_for(llm.started.wait(), timeout=10)
        await stack.stop()  # drafting is interrupted mid-call
        llm.release.set()
        await stack.start()  # a new runner id; the fake clock never lets a lease expire
        for _ in range(500):  # the new process's worker picks the run up in the background
            if platform.cards():
                break
            await asyncio.sleep(0.01)

    assert len(platform.cards()) == 1


async def test_core_boot_delivers_an_in_flight_card_at_once_through_the_registered_sender(
    tmp_path: Path, platform: FakePlatform
) -> None:
    crash = CrashPoints()
    crash.arm("outbox.before_send")  # killed with the card marked in flight, not yet sent
    async with joke_stack(tmp_path, llm=FakeLLM("A joke."), serve=False, crash=crash) as stack:
        stack.register("fake", platform)
        result = await stack.service.request_joke(JokeRequest("k1", origin(), "cats"))
        with pytest.raises(SimulatedCrash):
            await stack.drain()
        await stack.stop()
        stack.clock.advance(60)  # the dead runner's claim on the card has run out
        stack.serve = True
        await stack.start()  # boot: the sender is registered before recovery delivers
        cards_at_boot = platform.cards(result.run_id)

    assert len(cards_at_boot) == 1  # no "no sender yet" deferral, no clock advance needed


async def test_core_screens_drafts_with_the_real_classifier_and_records_the_scores(
    tmp_path: Path, platform: FakePlatform
) -> None:
    crude = "Why did the cat sit there? Because it's a fucking little shithead."
    clean = "Why do cats make terrible storytellers? They only have one tail."
    async with joke_stack(tmp_path, llm=FakeLLM(crude, clean), serve=False) as stack:
        stack.register("fake", platform)
        run_id = await ask(stack, "k1")
        async with stack.store.read() as tx:
            audit = {a.data["event"]: a.data for a in await tx.audit(run_id) if a.event == "flow"}

    assert [c.payload["card"]["draft"] for c in platform.cards(run_id)] == [clean]
    out, shown = audit["screened_out"], audit["review_requested"]
    assert out["reason"] in ("blocklist", "classifier")  # the bot's list knows these words too
    assert out["screen"]["score"] > 0.9
    assert out["screen"]["classifier"].startswith("alt-profanity-check")
    assert shown["screen"]["fired"] == []
    assert shown["screen"]["score"] < 0.5
    assert shown["screen"]["moderation"] == "none"  # the FakeLLM offers no moderation


async def test_core_scope_words_and_threshold_screen_that_scopes_drafts(
    tmp_path: Path, platform: FakePlatform
) -> None:
    dull = "What do cats eat for breakfast? Mice Krispies!"
    other = "What is a cat's favourite colour? Purr-ple!"
    config = ScopeConfig("fake", "guild1", "mods", "fun", "", ("Krispies",), 0.9)
    async with joke_stack(tmp_path, llm=FakeLLM(dull, other), serve=False) as stack:
        stack.register("fake", platform)
        await stack.service.save_scope(config)
        refused = await stack.service.request_joke(JokeRequest("k0", origin(), "krispies"))
        run_id = await ask(stack, "k1")
        async with stack.store.read() as tx:
            audit = {a.data["event"]: a.data for a in await tx.audit(run_id) if a.event == "flow"}

    assert refused.status == RequestStatus.REFUSED  # a topic with the scope's word
    assert [c.payload["card"]["draft"] for c in platform.cards(run_id)] == [other]
    assert (audit["screened_out"]["reason"], audit["screened_out"]["detail"]) == (
        "scope_words",
        "krispies",
    )
    assert audit["review_requested"]["screen"]["threshold"] == 0.9


@pytest.mark.parametrize(
    ("words", "threshold", "said"),
    [
        (("x" * 51,), None, "1 to 50 characters"),
        (("*",), None, "1 to 50 characters"),
        (("#hashtag",), None, "cannot contain #"),
        (tuple(f"w{i}" for i in range(101)), None, "At most 100"),
        ((), 0.0, "above 0 and at most 1"),
        ((), 1.5, "above 0 and at most 1"),
    ],
)
async def test_core_refuses_bad_screen_settings(
    tmp_path: Path, words: tuple[str, ...], threshold: float | None, said: str
) -> None:
    config = ScopeConfig("fake", "guild1", "mods", "fun", "", words, threshold)
    async with joke_stack(tmp_path, llm=FakeLLM("A joke."), serve=False) as stack:
        with pytest.raises(BadRequest, match=said):
            await stack.service.save_scope(config)
        saved = await stack.service.scope("fake", "guild1")

    assert saved is None


async def test_core_tidies_screen_words_before_saving(tmp_path: Path) -> None:
    config = ScopeConfig("fake", "guild1", "mods", "fun", "", ("Heck", " two   Words ", "heck"))
    async with joke_stack(tmp_path, llm=FakeLLM("A joke."), serve=False) as stack:
        await stack.service.save_scope(config)
        saved = await stack.service.scope("fake", "guild1")

    assert saved is not None
    assert saved.blocked_words == ("heck", "two words")


async def test_core_serving_warms_the_classifier_before_any_draft(tmp_path: Path) -> None:
    classifier = FakeClassifier()
    async with joke_stack(tmp_path, llm=FakeLLM("A joke."), classifier=classifier):
        async with asyncio.timeout(5):
            while not classifier.scored:
                await asyncio.sleep(0.01)

    assert classifier.scored == ["warm-up"]  # nothing was requested: only the warm-up scored


async def test_core_a_classifier_that_fails_to_load_is_logged_and_serving_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(FakeClassifier):
        async def score(self, text: str) -> float:
            raise ImportError("no model")

    async with joke_stack(tmp_path, llm=FakeLLM("A joke."), classifier=Broken()) as stack:
        async with asyncio.timeout(5):
            while "failed to load" not in caplog.text:
                await asyncio.sleep(0.01)
        status = await stack.service.request_joke(JokeRequest("k1", origin(), "cats"))

    assert status.status == RequestStatus.ACCEPTED
