"""Benchmark: the web console's live feed and queue page under load, on a real SQLite file.

Run: ``.venv/bin/python -m bench.console_load [--subscribers N] [--rate R] [--seconds S]``.
10,000 pending reviews are seeded (``bench._reviews``); one console (the production app on
uvicorn) serves them. ``--subscribers`` signed-in event streams follow ``/events`` while
decisions are made at ``--rate`` per second through the runtime's ``decide``. For every
decision and every stream: the time from ``decide`` returning (committed) to the stream
reading its ``wait.decided`` event; events lost (expected minus received, 0 is the goal).
Then the queue page (200 newest of the 10,000) is fetched 50 times. The streams run in a child
process (aiohttp), as browsers would be elsewhere; on one machine it still shares the CPU with
the server. Times are wall-clock (``time.time``), comparable across the two processes. The
last line is one JSON object.
"""

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

from adapters.console import ConsoleConfig, LoginLinks, create_app
from bench._pg import pct
from bench._reviews import MOD, review_flow, runtime_for, waiting_checkpoint
from bench.runtime import seed
from bot.app._console import Console, serving_console
from bot.board import Board
from bot.clock import SystemClock
from bot.feed import AuditFeed
from bot.models import DecisionRequest
from bot.service import JokeService
from bot.store import open_store

PENDING = 10_000
SECRET = "bench-console-secret-" + "x" * 32  # a throwaway session key


async def follow(http: aiohttp.ClientSession, url: str, seen: dict[str, float]) -> None:
    """Read one event stream; note when each decided token arrived."""
    async with http.get(url) as response:
        async for raw in response.content:
            line = raw.decode()
            if line.startswith("data: ") and '"wait.decided"' in line:
                event = json.loads(line[6:])
                seen.setdefault(event["data"]["token"], time.time())


async def streams(url: str, cookie: str, count: int, out: Path) -> None:
    """The child: ``count`` streams until ``out.stop`` exists, then the arrivals into ``out``."""
    jar = aiohttp.CookieJar(unsafe=True)
    jar.update_cookies({"jokebot_console": cookie})
    async with aiohttp.ClientSession(
        cookie_jar=jar, connector=aiohttp.TCPConnector(limit=0)
    ) as http:
        seen: list[dict[str, float]] = [{} for _ in range(count)]
        tasks = [asyncio.create_task(follow(http, url, s)) for s in seen]
        await asyncio.sleep(1.0)
        print("ready", flush=True)
        stop = out.with_suffix(".stop")  # the parent process says when: a file, polled
        while not await asyncio.to_thread(stop.exists):  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.to_thread(out.write_text, json.dumps(seen))


async def sign_in(http: aiohttp.ClientSession, base: str, links: LoginLinks) -> None:
    token = links.issue()
    async with http.get(f"{base}/login/{token}") as page:
        text = await page.text()
    csrf = text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
    async with http.post(f"{base}/login/{token}", data={"csrf": csrf}) as answer:
        assert answer.status == 200, answer.status


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--child", nargs=3, metavar=("URL", "COOKIE", "OUT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        url, cookie, out = args.child
        await streams(url, cookie, args.subscribers, Path(out))
        return
    checkpoint = await waiting_checkpoint()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "console.db"
        await (await open_store(f"sqlite:///{path}")).close()  # create the schema
        tokens = seed(path, checkpoint, 0, PENDING, time.time())
        result = await run(path, tokens, args)
    print(
        f"{args.subscribers} streams, {result['decisions']} decisions at {args.rate}/s: "
        f"commit-to-stream p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
        f"lost {result['lost']}; RSS {result['rss_mb']} MB"
    )
    print(
        f"queue page with {PENDING} pending: p50 {result['page_p50_ms']} ms, "
        f"p99 {result['page_p99_ms']} ms (goal < 100)"
    )
    print(json.dumps(result))


async def run(path: Path, tokens: list[str], args: argparse.Namespace) -> dict[str, float]:
    clock = SystemClock()
    store = await open_store(f"sqlite:///{path}")
    try:
        runtime = runtime_for(store, {"review": review_flow()})
        service = JokeService(runtime, store, clock, lambda request, config: {})
        feed = AuditFeed(store, clock)
        config = ConsoleConfig(secret=SECRET, login_attempts=10_000)
        links = LoginLinks(clock, 600)
        app = create_app(config, service, Board(store, clock, feed), clock, links=links)
        async with feed.running():
            console = Console(app, links, feed, config)
            async with serving_console(console, "127.0.0.1", 0) as port:
                return await measure(f"http://127.0.0.1:{port}", links, runtime, feed, tokens, args)
    finally:
        await store.close()


async def measure(
    base: str,
    links: LoginLinks,
    runtime: object,
    feed: AuditFeed,
    tokens: list[str],
    args: argparse.Namespace,
) -> dict[str, float]:
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        await sign_in(http, base, links)
        cookie = next(c.value for c in jar if c.key == "jokebot_console")
        out = Path(tempfile.mkdtemp()) / "seen.json"
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.console_load",
            "--subscribers",
            str(args.subscribers),
            "--child",
            f"{base}/events?after={feed.frontier}",
            cookie,
            str(out),
            stdout=asyncio.subprocess.PIPE,
        )
        assert child.stdout is not None
        assert (await child.stdout.readline()).strip() == b"ready"
        committed = await decide_at_rate(runtime, tokens, args.rate, args.seconds)
        await asyncio.sleep(3.0)  # stragglers
        await asyncio.to_thread(out.with_suffix(".stop").touch)
        await child.wait()
        seen: list[dict[str, float]] = json.loads(await asyncio.to_thread(out.read_text))
        page = await page_times(http, base, 50)
    latencies = [s[token] - at for s in seen for token, at in committed.items() if token in s]
    lost = len(committed) * len(seen) - len(latencies)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "subscribers": args.subscribers,
        "decisions": len(committed),
        "p50_ms": round(pct(latencies, 0.5), 2),
        "p99_ms": round(pct(latencies, 0.99), 2),
        "lost": lost,
        "rss_mb": round(rss_mb, 1),
        "page_p50_ms": round(pct(page, 0.5), 2),
        "page_p99_ms": round(pct(page, 0.99), 2),
    }


async def decide_at_rate(
    runtime: object, tokens: list[str], rate: float, seconds: float
) -> dict[str, float]:
    """Approve one pending review every 1/rate seconds; when each decide returned."""
    committed: dict[str, float] = {}
    start = time.perf_counter()
    for n, token in enumerate(tokens[: int(rate * seconds)]):
        await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
        request = DecisionRequest(token, "approve", MOD, f"bench-{n}")
        result = await runtime.decide(request)  # type: ignore[attr-defined]
        assert result.status == "applied", result
        committed[token] = time.time()
    return committed


async def page_times(http: aiohttp.ClientSession, base: str, n: int) -> list[float]:
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        async with http.get(base + "/", headers={"Accept": "text/html"}) as page:
            await page.read()
            assert page.status == 200
        times.append(time.perf_counter() - t0)
    return times


if __name__ == "__main__":
    asyncio.run(main())
