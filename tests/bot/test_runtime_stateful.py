"""A Hypothesis state machine over the runtime: start / click / duplicate click / advance the
clock / crash at a random point / restart / platform fault / drain, checking I1-I8 after every
step and, at the end, liveness (I2, I7) once everything has settled.

CI runs a small derandomised sample; set JOKEBOT_FUZZ_EXAMPLES for a longer random fuzz.
"""

import asyncio
import os
import shutil
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, event, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from bot.models import Actor
from bot.runtime import CRASH_POINTS, SimulatedCrash
from tests.support.runtime_harness import ALICE, BOB, MALLORY, Harness
from tests.support.runtime_invariants import check_invariants

T = TypeVar("T")
EXAMPLES = int(os.environ.get("JOKEBOT_FUZZ_EXAMPLES", "0"))
ACTIONS = ["approve", "approve", "approve", "reject", "edit", "timeout", "dance"]


class RuntimeMachine(RuleBasedStateMachine):
    """One bot over one database; the platform, clock and drafter outlive restarts."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.dir = Path(tempfile.mkdtemp(prefix="jokebot-fuzz-"))
        self.h = Harness(self.dir / "bot.db")
        self.run(self.h.boot())
        self.started = 0

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def act(self, coro: Coroutine[Any, Any, object]) -> None:
        """Run ``coro``; a simulated crash is followed by a restart (which may crash again)."""
        try:
            self.run(coro)
        except SimulatedCrash as crash:
            event(f"crashed at {str(crash).split()[0]}")
            self.reboot()

    def reboot(self) -> None:
        for _ in range(len(CRASH_POINTS) + 1):  # each armed point fires at most once
            try:
                self.run(self.h.restart())
                return
            except SimulatedCrash:
                continue
        raise AssertionError("the bot could not boot")

    @rule()
    def start_run(self) -> None:
        self.started += 1
        self.act(self.h.start(self.started, timeout_s=600))
        self.act(self.h.drain())  # most runs should reach their card

    @rule(
        pick=st.integers(0, 50),
        who=st.sampled_from([ALICE, ALICE, BOB, MALLORY]),
        action=st.sampled_from(ACTIONS),
        stale=st.booleans(),
    )
    def click(self, pick: int, who: Actor, action: str, stale: bool) -> None:
        cards = self.h.platform.cards()
        if not cards:
            return
        card = cards[pick % len(cards)] if stale else cards[-1 - pick % len(cards)]
        data = {"text": "An edited joke."} if action == "edit" else {}
        token = str(card.payload["token"])
        self.act(self.h.platform.click(self.h.rt.decide, token, action, who, data=data))

    @rule()
    def approve_newest(self) -> None:
        cards = self.h.platform.cards()
        if cards:
            token = str(cards[-1].payload["token"])
            self.act(self.h.platform.click(self.h.rt.decide, token, "approve", BOB))

    @rule(pick=st.integers(0, 50))
    def duplicate_click(self, pick: int) -> None:
        self.h.platform.duplicate_delivery(1)
        self.click(pick, ALICE, "approve", stale=False)

    @rule(seconds=st.sampled_from([0.5, 2.0, 30.0, 301.0, 599.0, 601.0, 3600.0]))
    def advance_clock(self, seconds: float) -> None:
        self.h.clock.advance(seconds)

    @rule(point=st.sampled_from(CRASH_POINTS), skip=st.integers(0, 2))
    def crash_at(self, point: str, skip: int) -> None:
        self.h.crash.arm(point, skip=skip)

    @rule()
    def restart(self) -> None:
        self.reboot()

    @rule(
        fault=st.sampled_from(["outage", "fail_before_apply", "apply_then_drop", "permanent"]),
        kind=st.sampled_from([None, "review.post", "publish", "review.update"]),
    )
    def platform_fault(self, fault: str, kind: str | None) -> None:
        p = self.h.platform
        {
            "outage": lambda: p.outage(2, kind),
            "fail_before_apply": lambda: p.fail_before_apply(1, kind),
            "apply_then_drop": lambda: p.apply_then_drop_response(1, kind),
            "permanent": lambda: p.permanent_failure(1, kind),
        }[fault]()

    @rule()
    def drain(self) -> None:
        self.act(self.h.drain())

    @invariant()
    def safety(self) -> None:
        if self.h.store is not None:
            check_invariants(self.h.path, self.h.platform, drained=False)

    def teardown(self) -> None:
        try:
            self.settle()
        finally:
            self.run(self.h.shutdown())
            self.loop.close()
            shutil.rmtree(self.dir, ignore_errors=True)

    def settle(self) -> None:
        """No more crashes or faults: let every timer fire and every effect go out, then check."""
        self.h.crash.disarm()
        self.h.platform.clear_faults()
        self.reboot()
        for _ in range(6):  # timeouts are 600 s, backoff is capped at 300 s
            self.run(self.h.drain())
            self.h.clock.advance(601.0)
        self.run(self.h.drain())
        check_invariants(self.h.path, self.h.platform, drained=True)
        event(f"published {len(self.h.platform.public_posts())}")


RuntimeMachine.TestCase.settings = settings(
    max_examples=EXAMPLES or 25,
    stateful_step_count=30,
    deadline=None,
    derandomize=EXAMPLES == 0,  # CI: the same sample every run
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_runtime_state_machine = RuntimeMachine.TestCase
