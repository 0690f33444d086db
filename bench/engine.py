"""Benchmark: per-step cost of `flows` vs `pocketflow` 0.0.3, and the durable round trip.

Run: ``.venv/bin/python -m bench.engine``. Both engines run the same flows in this process:
a 3-node loop (sync Flow, then AsyncFlow of AsyncNodes) for 10k node steps, best of several
runs. The round trip is: run a joke-sized flow to its Wait, ``json.dumps`` the checkpoint,
``json.loads`` it, resume with a decision and run to the end. The last line printed is
``{"ratio_sync": ..., "ratio_async": ..., "roundtrip_us": ...}`` (ratio = ours / PocketFlow).
"""

import asyncio
import json
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pocketflow

import flows

STEPS = 10_000
REPEATS = 9
ROUNDTRIPS, TRIP_REPEATS = 200, 50  # many short batches: the best one dodges other load


class Counting:
    """A node that counts its step and loops until STEPS steps have run."""

    def prep(self, shared: dict[str, Any]) -> Any:
        return shared["n"]

    def exec(self, prep_res: Any) -> Any:
        return prep_res + 1

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        shared["n"] = exec_res
        return "stop" if exec_res >= STEPS else "default"

    async def prep_async(self, shared: dict[str, Any]) -> Any:
        return shared["n"]

    async def exec_async(self, prep_res: Any) -> Any:
        return prep_res + 1

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        shared["n"] = exec_res
        return "stop" if exec_res >= STEPS else "default"


def loop_flow(m: Any, asynchronous: bool) -> Any:
    """a >> b >> c >> a, each with a "stop" edge to a final node."""
    base = m.AsyncNode if asynchronous else m.Node
    a, b, c = (type(name, (Counting, base), {})() for name in "ABC")
    end = base()
    _ = a >> b >> c >> a
    for node in (a, b, c):
        node - "stop" >> end
    return (m.AsyncFlow if asynchronous else m.Flow)(start=a)


def time_run(run: Callable[[dict[str, Any]], Any]) -> float:
    """Seconds per node step of one run of STEPS steps."""
    shared = {"n": 0}
    began = time.perf_counter()
    run(shared)
    elapsed = time.perf_counter() - began
    assert shared["n"] == STEPS
    return elapsed / (STEPS + 1)  # + the final node


def step_costs(loop: asyncio.AbstractEventLoop) -> dict[str, float]:
    """Best microseconds per step for each engine and mode; the engines alternate runs."""
    runs: dict[str, Callable[[dict[str, Any]], Any]] = {}
    for m in (pocketflow, flows):
        sync_flow, async_flow = loop_flow(m, False), loop_flow(m, True)
        runs[f"{m.__name__} sync"] = sync_flow.run
        runs[f"{m.__name__} async"] = partial(_run_async, loop, async_flow)
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(REPEATS):  # interleaved, so load on the box hits both engines alike
        for name, run in runs.items():
            best[name] = min(best[name], time_run(run) * 1e6)
    return best


def _run_async(loop: asyncio.AbstractEventLoop, flow: Any, shared: dict[str, Any]) -> Any:
    return loop.run_until_complete(flow.run_async(shared))


# --- the durable round trip -------------------------------------------------------------------


class Review(flows.AsyncNode):
    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        payload = {"draft": shared["drafts"][-1], "attempt": shared["attempts"]}
        allowed = ("approve", "reject", "edit", "timeout")
        return flows.Wait("review", allowed, payload, timeout_s=3600.0)


class Publish(flows.AsyncNode):
    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        shared["published"] = shared["drafts"][-1]
        flows.emit(flows.Effect("publish", {"text": shared["published"]}))
        return None


def joke_state() -> dict[str, Any]:
    """A shared store the size of the joke flow's (~1.5 KB as JSON)."""
    drafts = [
        f"Why did the cat sit on the keyboard? Draft {i}: to keep an eye on the mouse!"
        for i in range(4)
    ]
    return {
        "schema_version": 1,
        "topic": "cats and computers",
        "requester": {"platform": "discord", "user_id": "123456789012345678", "name": "Ada"},
        "origin": {"channel_id": "987654321098765432", "guild_id": "111122223333444455"},
        "drafts": drafts,
        "rejected": drafts[:3],
        "attempts": 4,
        "llm_attempts": {"draft": 5, "failures": 1},
        "max_attempts": 5,
        "notes": ["near-duplicate of a rejected draft", "blocklist clean"] * 3,
    }


async def roundtrip_us(rounds: int) -> float:
    review = Review()
    review - "approve" >> Publish()
    flow = flows.AsyncFlow(start=review)
    state = joke_state()
    best = float("inf")
    for _ in range(TRIP_REPEATS):
        began = time.perf_counter()
        for _ in range(rounds):
            suspended = await flow.run_async(dict(state))
            checkpoint = json.loads(json.dumps(suspended.checkpoint))
            await flow.resume_async(checkpoint, flows.Decision("approve", actor="mod"))
        best = min(best, time.perf_counter() - began)
    return best / rounds * 1e6


def main() -> None:
    loop = asyncio.new_event_loop()
    try:
        us = step_costs(loop)
        trip = loop.run_until_complete(roundtrip_us(ROUNDTRIPS))
    finally:
        loop.close()
    size = len(json.dumps(joke_state()))
    for mode in ("sync", "async"):
        ours, theirs = us[f"flows {mode}"], us[f"pocketflow {mode}"]
        print(f"{mode} step: flows {ours:.2f} us, pocketflow {theirs:.2f} us")
    print(f"round trip (shared {size} bytes of JSON): {trip:.1f} us")
    result = {
        "ratio_sync": round(us["flows sync"] / us["pocketflow sync"], 3),
        "ratio_async": round(us["flows async"] / us["pocketflow async"], 3),
        "roundtrip_us": round(trip, 1),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
