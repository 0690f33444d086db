"""Benchmark: decision latency and throughput with few and many pending waits, step commits
per second, and storage per pending wait, on a real SQLite file (WAL, synchronous=FULL).

Run: ``.venv/bin/python -m bench.runtime [--dir PATH]``. Waits are seeded with executemany
(a run row with a realistic checkpoint, the wait, its posted card and two audit rows each).
The last line printed is one JSON object with ``decide_p50_ms_100``, ``decide_p99_ms_100``,
``decide_p50_ms_100k``, ``decide_p99_ms_100k``, ``decisions_per_s``, ``step_commits_per_s``
and ``bytes_per_wait``.
"""

import argparse
import asyncio
import json
import os
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.clock import SystemClock
from bot.models import Actor, DecisionRequest, Origin, OutboxEffect
from bot.runtime import Runtime
from bot.store import open_store
from flows import AsyncFlow, AsyncNode, Suspended, Wait, start_checkpoint

SAMPLES = 1000
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


def seed(
    path: Path, checkpoint: dict[str, Any], start_at: int, count: int, now: float
) -> list[str]:
    """Insert ``count`` waiting runs with a pending review wait each; their tokens."""
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
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO runs (run_id, flow, origin_json, status, cursor, seq, checkpoint_json, "
            "wait_token, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            runs,
        )
        db.executemany(
            "INSERT INTO waits (token, run_id, seq, kind, allowed_json, payload_json, on_timeout, "
            "status, created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            waits,
        )
        db.executemany(
            "INSERT INTO outbox (effect_id, run_id, seq, n, kind, payload_json, dedupe_key, token, "
            "status, attempts, next_attempt_at, platform_ref, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            cards,
        )
        db.executemany(
            "INSERT INTO audit (run_id, at, actor, event, data_json) VALUES (?,?,?,?,?)", audits
        )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return tokens


def db_bytes(path: Path) -> int:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def runtime_for(store: Any, flows: dict[str, AsyncFlow]) -> Runtime:
    clock = SystemClock()
    return Runtime(store, flows, {"bench": NullSender()}, clock, runner_id="bench")


class Decider:
    """A runtime over one benchmark database, timing each decision."""

    def __init__(self, path: Path) -> None:
        self.path, self.n = path, 0
        self.samples: list[float] = []
        self.store: Any = None
        self.runtime: Runtime | None = None

    async def open(self) -> None:
        self.store = await open_store(f"sqlite:///{self.path}")
        self.runtime = runtime_for(self.store, {"review": review_flow()})
        await self.runtime.recover()

    async def decide(self, token: str) -> None:
        assert self.runtime is not None
        self.n += 1
        request = DecisionRequest(token, "approve", MOD, f"{self.path.stem}-{self.n}")
        t0 = time.perf_counter()
        result = await self.runtime.decide(request)
        self.samples.append(time.perf_counter() - t0)
        assert result.status == "applied", result

    async def close(self) -> None:
        await self.store.close()


def pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def compare(
    base: Path, checkpoint: dict[str, Any], count: int
) -> tuple[list[float], list[float], float]:
    """Decide on a ~100-wait database and a ``count``-wait one in turn, so disk noise hits both."""
    few, many = Decider(base / "few.db"), Decider(base / "many.db")
    for d in (few, many):
        await (await open_store(f"sqlite:///{d.path}")).close()
    before = db_bytes(many.path)
    many_tokens = seed(many.path, checkpoint, 0, count, time.time())
    per_wait = (db_bytes(many.path) - before) / count
    few_tokens: list[str] = []
    await few.open()
    await many.open()
    try:
        for i, token in enumerate(random.sample(many_tokens, SAMPLES)):
            if not few_tokens:  # keep about 100 pending: seed 100 more when all are decided
                few_tokens = seed(few.path, checkpoint, i, 100, time.time())
            await few.decide(few_tokens.pop())
            await many.decide(token)
    finally:
        await few.close()
        await many.close()
    return few.samples, many.samples, per_wait


async def step_commits(base: Path, runs: int = 100, length: int = 10) -> float:
    store = await open_store(f"sqlite:///{base / 'steps.db'}")
    runtime = runtime_for(store, {"chain": chain_flow(length)})
    try:
        for i in range(runs):
            await runtime.start_run("chain", f"c{i}", ORIGIN, {"n": 0})
        t0 = time.perf_counter()
        await runtime.drain()
        elapsed = time.perf_counter() - t0
    finally:
        await store.close()
    return runs * (length + 1) / elapsed  # one commit before each node, one at the end


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dir", type=Path, default=None, help="where to put the database files")
    parser.add_argument("--waits", type=int, default=100_000)
    args = parser.parse_args()
    random.seed(7)
    checkpoint = await waiting_checkpoint()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        base = Path(tmp)
        few, many, per_wait = await compare(base, checkpoint, args.waits)
        steps = await step_commits(base)
    fs = os.statvfs(base.parent if args.dir is None else args.dir)
    print(f"block size {fs.f_bsize}; {SAMPLES} decisions per case, one at a time, interleaved")
    print(f"~100 pending waits: decide p50 {pct(few, 0.5):.2f} ms, p99 {pct(few, 0.99):.2f} ms")
    p50, p99 = pct(many, 0.5), pct(many, 0.99)
    print(f"{args.waits} pending waits: decide p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"decisions/s (100k case, one at a time): {len(many) / sum(many):.0f}")
    print(f"step commits/s: {steps:.0f}; bytes per pending wait: {per_wait:.0f}")
    print(
        json.dumps(
            {
                "decide_p50_ms_100": round(pct(few, 0.5), 3),
                "decide_p99_ms_100": round(pct(few, 0.99), 3),
                "decide_p50_ms_100k": round(pct(many, 0.5), 3),
                "decide_p99_ms_100k": round(pct(many, 0.99), 3),
                "decisions_per_s": round(len(many) / sum(many), 1),
                "decisions_per_s_100": round(len(few) / sum(few), 1),
                "step_commits_per_s": round(steps, 1),
                "bytes_per_wait": round(per_wait, 1),
                "mean_ms_100k": round(statistics.mean(many) * 1000, 3),
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
