"""What the runtime benchmarks share: the review flow, a sender that accepts everything, and
rows for many runs paused on a pending review (a run row with a realistic checkpoint, the wait,
its posted card and two audit rows each), written straight into a database.
"""

import json
import random
import time
from dataclasses import dataclass
from typing import Any

from bot.clock import SystemClock
from bot.models import Actor, DecisionRequest, Origin, OutboxEffect
from bot.runtime import Runtime
from bot.store import Store, open_store
from flows import AsyncFlow, AsyncNode, Suspended, Wait, start_checkpoint

MOD = Actor("bench", "mod", "@mod", is_moderator=True)
ORIGIN = Origin("bench", "s", Actor("bench", "u", "@u"), "mods", "jokes", "req")
ACTIONS = ("approve", "reject", "edit", "timeout")


class Draft(AsyncNode):
    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        shared["draft"] = "Why did the benchmark cross the road? To measure the other side."
        shared["attempt"] = 1
        return "default"


class Review(AsyncNode):
    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Wait:
        card = {
            "topic": shared["topic"],
            "draft": shared["draft"],
            "attempt": 1,
            "max_attempts": 3,
            "model_label": "SmolLM2-135M, embedded",
            "requester": "bench:u",
        }
        return Wait("review", ACTIONS, payload=card, timeout_s=86_400)


class Step(AsyncNode):
    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> str:
        shared["n"] = shared.get("n", 0) + 1
        return "default"


class NullSender:
    """Accepts every effect at once."""

    async def send(self, effect: OutboxEffect) -> str:
        return f"ref-{effect.dedupe_key}"

    async def reconcile(self, effect: OutboxEffect) -> str | None:
        return None

    async def exists(self, effect: OutboxEffect) -> bool | None:
        return True


def review_flow() -> AsyncFlow:
    draft, review = Draft(), Review()
    draft >> review
    flow = AsyncFlow(draft)
    flow.flow_id = "bench-review"
    return flow


def chain_flow(length: int) -> AsyncFlow:
    first = node = Step()
    for _ in range(length - 1):
        node = node >> Step()
    flow = AsyncFlow(first)
    flow.flow_id = "bench-chain"
    return flow


async def waiting_checkpoint() -> dict[str, Any]:
    flow = review_flow()
    result = await flow.resume_async(
        start_checkpoint(flow, {"topic": "benchmarks", "requester": "bench:u"})
    )
    assert isinstance(result, Suspended)
    return result.checkpoint


# the columns seed_rows fills, per table, in its tuples' order
COLUMNS = {
    "runs": (
        "run_id, flow, origin_json, status, cursor, seq, checkpoint_json, wait_token, "
        "created_at, updated_at"
    ),
    "waits": (
        "token, run_id, seq, kind, allowed_json, payload_json, on_timeout, status, created_at, "
        "expires_at"
    ),
    "outbox": (
        "effect_id, run_id, seq, n, kind, payload_json, dedupe_key, token, status, attempts, "
        "next_attempt_at, platform_ref, created_at, updated_at"
    ),
    "audit": "run_id, at, actor, event, data_json",
}


@dataclass
class Seed:
    """Rows of pending reviews: ``tables`` maps a table to tuples in ``COLUMNS`` order."""

    tokens: list[str]
    tables: dict[str, list[tuple[Any, ...]]]


def seed_rows(checkpoint: dict[str, Any], start_at: int, count: int, now: float) -> Seed:
    """``count`` waiting runs with a pending review wait each: their rows, table by table."""
    origin = json.dumps(ORIGIN.to_json(), separators=(",", ":"))
    cp = json.dumps(checkpoint, separators=(",", ":"))
    payload = json.dumps(checkpoint["wait"]["payload"], separators=(",", ":"))
    allowed = json.dumps(list(ACTIONS))
    tokens = [f"{i:032x}" for i in range(start_at, start_at + count)]
    runs, waits, cards, audits = [], [], [], []
    for i, token in enumerate(tokens, start_at):
        run_id = f"bench:{i}"
        runs.append(
            (run_id, "review", origin, "waiting", f"waiting:{token}", 3, cp, token, now, now)
        )
        expires = now + random.uniform(3_600, 86_400)
        waits.append(
            (token, run_id, 3, "review", allowed, payload, "timeout", "pending", now, expires)
        )
        card = json.dumps(
            {"token": token, "card": checkpoint["wait"]["payload"]}, separators=(",", ":")
        )
        cards.append(
            (
                f"{run_id}:3:0",
                run_id,
                3,
                0,
                "review.post",
                card,
                token[:20],
                token,
                "done",
                1,
                now,
                f"m{i}",
                now,
                now,
            )
        )
        audits.append((run_id, now, "bench", "run.started", '{"seq":0,"status":"running"}'))
        audits.append(
            (
                run_id,
                now,
                "bench",
                "step",
                f'{{"seq":3,"status":"waiting","wait":"{token}","effects":["{run_id}:3:0"]}}',
            )
        )
    return Seed(tokens, {"runs": runs, "waits": waits, "outbox": cards, "audit": audits})


def runtime_for(store: Store, flows: dict[str, AsyncFlow], runner_id: str = "bench") -> Runtime:
    """A runtime on the system clock whose effects all go to a ``NullSender``."""
    return Runtime(store, flows, {"bench": NullSender()}, SystemClock(), runner_id=runner_id)


class Decider:
    """A runtime over one benchmark database, timing each decision (one at a time)."""

    def __init__(self, url: str, tag: str) -> None:
        self.url, self.tag, self.n = url, tag, 0
        self.samples: list[float] = []
        self.store: Store | None = None
        self.runtime: Runtime | None = None

    async def open(self) -> None:
        self.store = await open_store(self.url)
        self.runtime = runtime_for(self.store, {"review": review_flow()}, f"bench-{self.tag}")
        await self.runtime.recover()

    async def decide(self, token: str) -> None:
        assert self.runtime is not None
        self.n += 1
        request = DecisionRequest(token, "approve", MOD, f"{self.tag}-{self.n}")
        t0 = time.perf_counter()
        result = await self.runtime.decide(request)
        self.samples.append(time.perf_counter() - t0)
        assert result.status == "applied", result

    async def close(self) -> None:
        if self.store is not None:
            await self.store.close()
