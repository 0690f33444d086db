"""Benchmark: decision latency and throughput with few and many pending waits, step commits
per second, and storage per pending wait, on a real SQLite file (WAL, synchronous=FULL); the
disk's own fsync latency next to it; and PostgreSQL decide latency with one and three processes.

Run: ``.venv/bin/python -m bench.runtime [--dir PATH] [--postgres URL | --no-postgres]``.
SQLite waits are seeded with executemany, PostgreSQL ones with COPY into a scratch schema (a run
row with a realistic checkpoint, the wait, its posted card and two audit rows each). The last
line printed is one JSON object with ``decide_p50_ms_100``, ``decide_p99_ms_100``,
``decide_p50_ms_100k``, ``decide_p99_ms_100k``, ``decisions_per_s``, ``step_commits_per_s``,
``bytes_per_wait``, ``fsync_p50_ms``, ``fsync_p99_ms``, ``sqlite_p50_over_fsync_p50`` and
``pg`` (decide p50/p99 by one process and by three at once; absent without a server).
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

from bench._pg import DEFAULT_URL, fsync_latencies, pct, reachable, scratch_schema
from bench._pg_decide import copy_seed, decide_here, decide_in_processes
from bench._reviews import (
    COLUMNS,
    ORIGIN,
    Decider,
    chain_flow,
    runtime_for,
    seed_rows,
    waiting_checkpoint,
)
from bot.store import open_store

SAMPLES = 1000
PG_WAITS = 10_000  # pending reviews in the PostgreSQL schema (a shared server: kept modest)
PG_SAMPLES = 1200  # decisions per PostgreSQL case (three processes: 400 each)


def seed(
    path: Path, checkpoint: dict[str, Any], start_at: int, count: int, now: float
) -> list[str]:
    """Insert ``count`` waiting runs with a pending review wait each; their tokens."""
    rows = seed_rows(checkpoint, start_at, count, now)
    db = sqlite3.connect(path)
    with db:
        for table, values in rows.tables.items():
            marks = ",".join("?" * len(COLUMNS[table].split(",")))
            sql = f"INSERT INTO {table} ({COLUMNS[table]}) VALUES ({marks})"  # noqa: S608
            db.executemany(sql, values)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return rows.tokens


def db_bytes(path: Path) -> int:
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


async def compare(
    base: Path, checkpoint: dict[str, Any], count: int
) -> tuple[list[float], list[float], float]:
    """Decide on a ~100-wait database and a ``count``-wait one in turn, so disk noise hits both."""
    few_path, many_path = base / "few.db", base / "many.db"
    few, many = Decider(f"sqlite:///{few_path}", "few"), Decider(f"sqlite:///{many_path}", "many")
    for d in (few, many):
        await (await open_store(d.url)).close()
    before = db_bytes(many_path)
    many_tokens = seed(many_path, checkpoint, 0, count, time.time())
    per_wait = (db_bytes(many_path) - before) / count
    few_tokens: list[str] = []
    await few.open()
    await many.open()
    try:
        for i, token in enumerate(random.sample(many_tokens, SAMPLES)):
            if not few_tokens:  # keep about 100 pending: seed 100 more when all are decided
                few_tokens = seed(few_path, checkpoint, i, 100, time.time())
            await few.decide(few_tokens.pop())
            await many.decide(token)
    finally:
        await few.close()
        await many.close()
    return few.samples, many.samples, per_wait


async def postgres(server: str, checkpoint: dict[str, Any]) -> dict[str, Any]:
    """Decide p50/p99 on PostgreSQL: one process, then three at once (``PG_WAITS`` pending)."""
    with scratch_schema(server) as url:
        await (await open_store(url)).close()
        seeded = seed_rows(checkpoint, 0, PG_WAITS, time.time())
        copy_seed(url, seeded)
        tokens = random.sample(seeded.tokens, 2 * PG_SAMPLES)
        one = await decide_here(url, tokens[:PG_SAMPLES], "one")
        rest = tokens[PG_SAMPLES:]
        three = decide_in_processes(url, [rest[i::3] for i in range(3)])
    return {
        "pending": PG_WAITS,
        "one_p50_ms": round(pct(one, 0.5), 3),
        "one_p99_ms": round(pct(one, 0.99), 3),
        "three_p50_ms": round(pct(three, 0.5), 3),
        "three_p99_ms": round(pct(three, 0.99), 3),
        "one_decisions_per_s": round(len(one) / sum(one), 1),
    }


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
    parser.add_argument("--postgres", default=DEFAULT_URL, help="server (a scratch schema is used)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite and fsync only")
    args = parser.parse_args()
    random.seed(7)
    checkpoint = await waiting_checkpoint()
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        base = Path(tmp)
        fsync = fsync_latencies(base)
        few, many, per_wait = await compare(base, checkpoint, args.waits)
        steps = await step_commits(base)
        fsync += fsync_latencies(base)  # before and after: the disk's mood changes
    pg = None
    problem = "--no-postgres" if args.no_postgres else reachable(args.postgres)
    if problem is None:
        pg = await postgres(args.postgres, checkpoint)
    fs = os.statvfs(base.parent if args.dir is None else args.dir)
    print(f"block size {fs.f_bsize}; {SAMPLES} decisions per case, one at a time, interleaved")
    print(f"~100 pending waits: decide p50 {pct(few, 0.5):.2f} ms, p99 {pct(few, 0.99):.2f} ms")
    p50, p99 = pct(many, 0.5), pct(many, 0.99)
    print(f"{args.waits} pending waits: decide p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"decisions/s (100k case, one at a time): {len(many) / sum(many):.0f}")
    print(f"step commits/s: {steps:.0f}; bytes per pending wait: {per_wait:.0f}")
    f50, f99 = pct(fsync, 0.5), pct(fsync, 0.99)
    ratio = p50 / f50 if f50 else 0.0
    print(f"disk: write+fsync of 4 KB p50 {f50:.3f} ms, p99 {f99:.3f} ms")
    print(f"SQLite decide p50 vs fsync p50: {p50:.2f} / {f50:.3f} ms = {ratio:.1f}x (goal <= 2)")
    if pg is None:
        print(f"PostgreSQL: not measured ({problem})")
    else:
        print(
            f"PostgreSQL, {pg['pending']} pending: decide p50 {pg['one_p50_ms']:.2f} ms, "
            f"p99 {pg['one_p99_ms']:.2f} ms (one process); p50 {pg['three_p50_ms']:.2f} ms, "
            f"p99 {pg['three_p99_ms']:.2f} ms (three processes deciding at once)"
        )
    print(
        json.dumps(
            {
                "decide_p50_ms_100": round(pct(few, 0.5), 3),
                "decide_p99_ms_100": round(pct(few, 0.99), 3),
                "decide_p50_ms_100k": round(p50, 3),
                "decide_p99_ms_100k": round(p99, 3),
                "decisions_per_s": round(len(many) / sum(many), 1),
                "decisions_per_s_100": round(len(few) / sum(few), 1),
                "step_commits_per_s": round(steps, 1),
                "bytes_per_wait": round(per_wait, 1),
                "mean_ms_100k": round(statistics.mean(many) * 1000, 3),
                "fsync_p50_ms": round(f50, 3),
                "fsync_p99_ms": round(f99, 3),
                "sqlite_p50_over_fsync_p50": round(ratio, 2),
                "pg": pg,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main())
