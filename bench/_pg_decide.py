"""PostgreSQL decide latency for ``bench/runtime.py``: pending reviews seeded with COPY into a
scratch schema, then decided one at a time, by one process or by three at once.

As a child: ``python -m bench._pg_decide URL TAG TOKEN...`` opens a runtime, prints ``ready``,
waits for ``go``, decides its tokens one at a time and prints one JSON line of seconds.
"""

import asyncio
import json
import subprocess
import sys
from collections.abc import Sequence

import psycopg

from bench._load import ROOT
from bench._reviews import COLUMNS, Decider, Seed

READY_S = 60.0


def copy_seed(url: str, seed: Seed) -> None:
    """Write ``seed``'s rows with COPY, parents first, and refresh the planner's statistics."""
    with psycopg.connect(url) as conn:
        with conn.cursor() as cursor:
            for table, rows in seed.tables.items():
                with cursor.copy(f"COPY {table} ({COLUMNS[table]}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")


async def decide_here(url: str, tokens: Sequence[str], tag: str) -> list[float]:
    """Decide ``tokens`` one at a time in this process; seconds per decision."""
    decider = Decider(url, tag)
    await decider.open()
    try:
        for token in tokens:
            await decider.decide(token)
    finally:
        await decider.close()
    return decider.samples


def decide_in_processes(url: str, shares: Sequence[Sequence[str]]) -> list[float]:
    """One child process per share, all deciding at once; every decision's seconds."""
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "bench._pg_decide", url, f"p{i}", *share],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i, share in enumerate(shares)
    ]
    samples: list[float] = []
    try:
        for child in children:
            assert child.stdout is not None
            if child.stdout.readline() != "ready\n":
                raise RuntimeError("a decider did not start")
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        for child in children:
            out, _ = child.communicate(timeout=READY_S * 5)
            if child.returncode != 0:
                raise RuntimeError(f"a decider failed (exit {child.returncode})")
            samples += json.loads(out.splitlines()[-1])
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
                child.wait()
    return samples


async def child(url: str, tag: str, tokens: Sequence[str]) -> None:
    decider = Decider(url, tag)
    await decider.open()
    try:
        print("ready", flush=True)
        if sys.stdin.readline().strip() == "go":
            for token in tokens:
                await decider.decide(token)
    finally:
        await decider.close()
    print(json.dumps(decider.samples), flush=True)


if __name__ == "__main__":
    asyncio.run(child(sys.argv[1], sys.argv[2], sys.argv[3:]))
