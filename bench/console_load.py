"""Load test of the web console: the live feed under decisions, and the pages over a big store.

Phase 1, the feed. This process is a serve-like bot: the real core (SQLite, runtime, joke
flow on a scripted model, an in-memory Discord), the console on uvicorn, in one event loop.
``--decisions`` reviews are made pending first. A child process (``--role subscribers``)
opens ``--subscribers`` event streams (``GET /events``, one signed-in session) and says when
all are connected; then decisions arrive at ``--rate`` per second through the service's
``decide`` (a moderator's click). Every audit row they cause (the decision, the resumed run's
steps, the published joke, the card updates) reaches every subscriber. Measured in the child:
commit-to-subscriber latency, from the event's ``at`` (the time its transaction took, so the
commit itself is included) to the moment the subscriber has read it; the events lost (the
audit ids each subscriber should have seen and did not); in this process: its RSS.

Phase 2, the pages: ``--pending`` pending reviews (and ``--runs`` finished runs with their
audit steps) written straight into a fresh store; then the queue page, the history page and
the stats page are each fetched ``--renders`` times by a signed-in browser, one at a time:
p50/p99 of the whole HTTP round trip. Run::

    .venv/bin/python -m bench.console_load [--subscribers 200] [--rate 50] [--decisions 1000]

Goals: feed p99 < 50 ms with 0 lost; queue page p99 < 100 ms. The last line is one JSON object.
"""

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from yarl import URL

from adapters.console import ConsoleConfig
from bench._load import ROOT, arrivals, freeze_gc
from bot.app import Core, open_core
from bot.app._console import Console, open_console, serving_console
from bot.joke import JokeOptions
from bot.models import Actor, DecisionRequest, JokeRequest, Origin
from bot.store import AuditRow, Ringing, RunRow, RunStatus, Store, WaitRow, WaitStatus
from tests.support.llm import FakeLLM
from tests.support.platform import FakePlatform

SECRET = "bench-console-secret-" + "x" * 32
JOKE = "Why did the benchmark cross the road? To measure the other side."
MOD = Actor("discord", "m1", "dana", is_moderator=True)
COOKIE = "jokebot_console"


def rss_mb() -> tuple[float, float]:
    """This process's resident set size now and at its peak, in MiB (Linux)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return (
        int(fields["VmRSS"].split()[0]) / 1024,
        int(fields["VmHWM"].split()[0]) / 1024,
    )


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of ``values``."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(p * len(ordered) + 0.5) - 1))]


@asynccontextmanager
async def served(db: Path) -> AsyncIterator[tuple[Core, Console, str]]:
    """A core and its console over ``db`` (system clock), serving; the base URL."""
    async with (
        open_core(
            database_url=f"sqlite:///{db}",
            llm=FakeLLM(JOKE),
            options=JokeOptions(cooldown_s=0.0, concurrency=64),
        ) as core,
        open_console(core, ConsoleConfig(secret=SECRET, keepalive_s=15.0)) as console,
    ):
        core.register_sender("discord", FakePlatform(core.clock))
        async with core.serving(), serving_console(console, "127.0.0.1", 0) as port:
            yield core, console, f"http://127.0.0.1:{port}"


async def sign_in(http: aiohttp.ClientSession, console: Console, base: str) -> str:
    """Sign ``http`` in as the local admin with a login link; the session cookie's value."""
    token = console.links.issue()
    async with http.get(f"{base}/login/{token}") as r:
        page = await r.text()
    csrf = page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]
    async with http.post(f"{base}/login/{token}", data={"csrf": csrf}, allow_redirects=False):
        pass
    cookie = http.cookie_jar.filter_cookies(URL(base)).get(COOKIE)
    assert cookie is not None, "sign-in failed"
    return cookie.value


async def pending_tokens(store: Store, n: int, timeout_s: float = 300.0) -> list[str]:
    """Wait until ``n`` reviews are pending; their tokens, oldest first."""
    deadline = time.monotonic() + timeout_s
    while True:
        async with store.read() as tx:
            rows = await tx.reviews(WaitStatus.PENDING, 0.0, n + 1)
        if len(rows) >= n:
            return [r.wait.token for r in reversed(rows)]
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {len(rows)} of {n} reviews became pending")
        await asyncio.sleep(0.2)


async def settled(store: Store, quiet_s: float = 1.0) -> int:
    """Wait until the work is done (no runnable run, no open effect) and no audit row has been
    added for ``quiet_s``; the last audit id."""
    last, since = -1, time.monotonic()
    while True:
        async with store.read() as tx:
            now_last = await tx.last_audit_id()
            busy = await tx.runnable_runs("bench", time.time() + 3600, 1)
            counts = await tx.ops_counts(time.time())
        open_effects = counts.effects.get("pending", 0) + counts.effects.get("in_flight", 0)
        if now_last != last or busy or open_effects:
            last, since = now_last, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return last
        await asyncio.sleep(0.1)


async def feed_phase(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Phase 1: decisions at ``rate`` while ``subscribers`` streams follow the audit log."""
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    async with (
        served(tmp / "feed.db") as (core, console, base),
        aiohttp.ClientSession(cookie_jar=jar) as http,
    ):
        origin = Origin("discord", "g1", Actor("discord", "u1", "ann"), "mods", "jokes", "gen")
        for i in range(args.decisions):
            await core.service.request_joke(JokeRequest(f"bench:{i}", origin, f"topic {i}"))
        tokens = await pending_tokens(core.store, args.decisions)
        after = await settled(core.store)
        cookie = await sign_in(http, console, base)
        commits = CommitTimes(core.store, tmp / "feed.db")
        child = subprocess.Popen(  # noqa: ASYNC220  (our own module, started once)
            [
                sys.executable,
                "-m",
                "bench.console_load",
                "--role",
                "subscribers",
                "--base",
                base,
                "--cookie",
                cookie,
                "--after",
                str(after),
                "--subscribers",
                str(args.subscribers),
            ],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert child.stdin is not None
        assert child.stdout is not None
        loop = asyncio.get_running_loop()
        ready = await loop.run_in_executor(None, child.stdout.readline)
        assert ready.strip() == "ready", ready
        freeze_gc()
        started = time.monotonic()
        async for i in arrivals(len(tokens), args.rate):
            request = DecisionRequest(tokens[i], "approve", MOD, f"click-{i}")
            asyncio.create_task(core.service.decide(request))  # noqa: RUF006  (settled waits)
        offered_s = time.monotonic() - started
        last = await settled(core.store)
        async with core.store.read() as tx:
            rows = [r for r in await tx.audit_since(after, 10**9) if r.id is not None]
        ids = [r.id for r in rows if r.id is not None]
        told = {"committed": commits.of(ids), "stamped": {r.id: r.at for r in rows}}
        commits.close()
        child.stdin.write(json.dumps(told) + "\n")
        child.stdin.flush()
        report = json.loads(await loop.run_in_executor(None, child.stdout.readline))
        child.wait(timeout=60)
        rss, peak = rss_mb()
        return {
            "subscribers": args.subscribers,
            "decisions": len(tokens),
            "decision_rate": round(len(tokens) / offered_s, 1),
            "events": len(rows),
            "last_seq": last,
            **report,
            "rss_mb": round(rss, 1),
            "peak_rss_mb": round(peak, 1),
        }


# ---- the subscribers' process --------------------------------------------------------------


async def subscribe(
    http: aiohttp.ClientSession, url: str, seen: list[tuple[int, float]], ready: asyncio.Event
) -> None:
    """Follow one event stream: every id read, with the time it was read."""
    async with http.get(url, headers={"Accept": "text/event-stream"}) as r:
        assert r.status == 200, r.status
        ready.set()
        rest = b""
        async for chunk in r.content.iter_any():  # whole chunks: cheaper than line by line
            now = time.time()
            *blocks, rest = (rest + chunk).split(b"\n\n")
            seen.extend((int(b[4 : b.index(b"\n")]), now) for b in blocks if b.startswith(b"id: "))


def lags_ms(seen: list[list[tuple[int, float]]], since: dict[int, float]) -> list[float]:
    """Every frame's delay after ``since`` its id (ms)."""
    return [(t - since[i]) * 1000 for s in seen for i, t in s if i in since]


def summary(ms: list[float]) -> dict[str, float | None]:
    """p50, p99 and max of ``ms``."""
    if not ms:
        return {"p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "p50_ms": round(statistics.median(ms), 2),
        "p99_ms": round(percentile(ms, 0.99), 2),
        "max_ms": round(max(ms), 2),
    }


async def subscribers_role(args: argparse.Namespace) -> None:
    """Open the streams, say ``ready``, read until every subscriber saw the expected ids."""
    url = f"{args.base}/events?after={args.after}"
    jar = aiohttp.CookieJar(unsafe=True)
    jar.update_cookies({COOKIE: args.cookie}, URL(args.base))
    connector = aiohttp.TCPConnector(limit=0)
    async with aiohttp.ClientSession(cookie_jar=jar, connector=connector) as http:
        seen: list[list[tuple[int, float]]] = [[] for _ in range(args.subscribers)]
        readies = [asyncio.Event() for _ in range(args.subscribers)]
        tasks = [
            asyncio.create_task(subscribe(http, url, seen[i], readies[i]))
            for i in range(args.subscribers)
        ]
        await asyncio.wait_for(asyncio.gather(*(e.wait() for e in readies)), 60)
        print("ready", flush=True)
        loop = asyncio.get_running_loop()
        told = json.loads(await loop.run_in_executor(None, sys.stdin.readline))
        committed = {int(k): v for k, v in told["committed"].items()}
        stamped = {int(k): v for k, v in told["stamped"].items()}
        want = set(stamped)
        last = max(want, default=0)
        deadline = time.monotonic() + 30

        def caught_up() -> bool:
            return time.monotonic() >= deadline or all(s and s[-1][0] >= last for s in seen)

        while not caught_up():  # noqa: ASYNC110  (polls the lists the reading tasks fill)
            await asyncio.sleep(0.05)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    ids = [[i for i, _ in s] for s in seen]
    report = {
        "commit_to_subscriber": summary(lags_ms(seen, committed)),
        "stamp_to_subscriber": summary(lags_ms(seen, stamped)),
        "frames": sum(len(s) for s in seen),
        "lost": sum(len(want - set(s)) for s in ids),
        "doubled": sum(len(s) - len(set(s)) for s in ids),
    }
    print(json.dumps(report), flush=True)


class CommitTimes:
    """When each audit id was committed: the store's bell rings right after each COMMIT.

    The hook reads ``MAX(id)`` through a second connection at each ring (a bench-only cost of
    well under a millisecond); every id up to it was committed by then.
    """

    def __init__(self, store: Store, db: Path) -> None:
        assert isinstance(store, Ringing)
        self._conn = sqlite3.connect(db)
        self.marks: list[tuple[int, float]] = []
        bell, ring = store.bell, store.bell.ring

        def timed_ring() -> None:
            at = time.time()
            top = self._conn.execute("SELECT MAX(id) FROM audit").fetchone()[0] or 0
            self.marks.append((int(top), at))
            ring()

        bell.ring = timed_ring  # type: ignore[method-assign]  # a bench instrument

    def of(self, ids: Sequence[int]) -> dict[int, float]:
        """The commit time of each of ``ids`` (ascending) that a ring covered."""
        out, k = {}, 0
        for i in ids:
            while k < len(self.marks) and self.marks[k][0] < i:
                k += 1
            if k < len(self.marks):
                out[i] = self.marks[k][1]
        return out

    def close(self) -> None:
        self._conn.close()


# ---- phase 2: pages over a big store -------------------------------------------------------


async def fill(store: Store, pending: int, runs: int, now: float) -> None:
    """``pending`` runs waiting on a review and ``runs`` finished ones, with audit step rows."""
    batch = 2000
    for start in range(0, pending + runs, batch):
        async with store.transaction() as tx:
            for i in range(start, min(start + batch, pending + runs)):
                await _add_run(tx, i, i < pending, now - (pending + runs - i))


async def _add_run(tx: Any, i: int, waiting: bool, at: float) -> None:
    run_id, token = f"bench:{i}", f"{i:032x}"
    origin = {
        "platform": "discord" if i % 3 else "slack",
        "scope": f"g{i % 7}",
        "requester": {"platform": "discord", "user_id": f"u{i}", "display": f"user {i}"},
        "mod_channel": "mods",
        "public_channel": "jokes",
        "reply_channel": "gen",
    }
    shared = {"topic": f"topic {i}", "outcome": "" if waiting else "published"}
    status = RunStatus.WAITING if waiting else RunStatus.FINISHED
    await tx.insert_run(
        RunRow(
            run_id,
            "joke",
            origin,
            status,
            "await_review",
            4,
            {"shared": shared},
            at,
            at + 30,
            wait_token=token,
        )
    )
    card = {
        "topic": f"topic {i}",
        "draft": f"A joke about topic {i}.",
        "attempt": 1,
        "max_attempts": 5,
        "requester": f"user {i}",
        "model_label": "bench",
    }
    decision = None if waiting else {"action": "approve", "data": {}, "actor": "discord:m1"}
    await tx.insert_wait(
        WaitRow(
            token,
            run_id,
            4,
            "review",
            ("approve", "reject", "edit", "timeout"),
            card,
            "timeout",
            WaitStatus.PENDING if waiting else WaitStatus.DECIDED,
            at + 1,
            decision=decision,
            actor=None if waiting else "discord:m1",
            actor_display=None if waiting else "dana",
            decided_at=None if waiting else at + 20,
        )
    )
    await tx.add_audit(
        [
            AuditRow(run_id, at, "bench", "step", {"cursor": "draft_joke"}),
            AuditRow(run_id, at + 0.8, "bench", "step", {"cursor": "await_review"}),
        ]
    )


async def timed_gets(http: aiohttp.ClientSession, url: str, n: int) -> list[float]:
    """Fetch ``url`` ``n`` times one after another; each round trip in ms."""
    times = []
    for _ in range(n):
        started = time.perf_counter()
        async with http.get(url, headers={"Accept": "text/html"}) as r:
            await r.read()
            assert r.status == 200, r.status
        times.append((time.perf_counter() - started) * 1000)
    return times


async def pages_phase(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    """Phase 2: the queue, history and stats pages over a store with many rows."""
    db = tmp / "pages.db"
    from bot.store import open_store

    store = await open_store(f"sqlite:///{db}")
    try:
        await fill(store, args.pending, args.runs, time.time())
    finally:
        await store.close()
    result: dict[str, Any] = {"pending": args.pending, "runs": args.pending + args.runs}
    jar = aiohttp.CookieJar(unsafe=True)
    async with served(db) as (_, console, base), aiohttp.ClientSession(cookie_jar=jar) as http:
        await sign_in(http, console, base)
        for name, path in (
            ("queue", "/"),
            ("history", "/history"),
            ("stats", "/stats?days=30"),
            ("history_search", "/history?q=topic%20123"),
        ):
            await timed_gets(http, base + path, 3)  # warm up
            ms = await timed_gets(http, base + path, args.renders)
            result[f"{name}_p50_ms"] = round(statistics.median(ms), 1)
            result[f"{name}_p99_ms"] = round(percentile(ms, 0.99), 1)
    return result


async def bot_role(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {"bench": "console_load"}
    goals: dict[str, bool] = {}
    with tempfile.TemporaryDirectory() as d:
        if args.only in ("", "feed"):
            feed = result["feed"] = await feed_phase(args, Path(d))
            goals["feed_p99_under_50ms"] = (feed["commit_to_subscriber"]["p99_ms"] or 0) < 50
            goals["feed_lost_zero"] = feed["lost"] == 0
        if args.only in ("", "pages"):
            pages = result["pages"] = await pages_phase(args, Path(d))
            goals["queue_p99_under_100ms"] = pages["queue_p99_ms"] < 100
    return result | {"goals": goals}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--role", choices=("bot", "subscribers"), default="bot")
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--decisions", type=int, default=1000)
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=90_000, help="finished runs besides")
    parser.add_argument("--renders", type=int, default=100)
    parser.add_argument("--only", choices=("", "feed", "pages"), default="")
    parser.add_argument("--base", default="")
    parser.add_argument("--cookie", default="")
    parser.add_argument("--after", type=int, default=0)
    args = parser.parse_args(argv)
    if args.role == "subscribers":
        asyncio.run(subscribers_role(args))
        return
    os.environ.setdefault("PYTHONHASHSEED", "0")
    result = asyncio.run(bot_role(args))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
