"""Load test of the Discord adapter: how fast ``/joke`` is acknowledged under load.

Two processes. The fake Discord and the load generator run in a child process
(``--role fake``); this process is the bot: the real JokeClient and DiscordSender, connected
over the gateway, with a sink that accepts at once and drafts in the background for
``--llm-s`` seconds (as the runtime really does), then posts a review card through the sender.

Measured in the fake's process: time from INTERACTION_CREATE dispatch to the interaction
callback (the defer) arriving at the fake; p50/p99/max and how many missed Discord's 3 s
deadline. Then the arrival rate is stepped up (bounded in time) to find the highest rate whose
p99 stays under 100 ms. Run::

    .venv/bin/python -m bench.discord_load [--n 500] [--rate 100] [--llm-s 2]

The last line is one JSON object.
"""

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
from typing import Any

from adapters.discord_adapter import build_discord, use_endpoints
from bench._load import (
    DEADLINE_S,
    ROOT,
    DraftingSink,
    arrivals,
    freeze_gc,
    until_stdin_closes,
)
from bot.models import EffectKind, JokeRequest, OutboxEffect, RequestResult, RequestStatus
from tests.support.fake_discord import (
    ALICE,
    CONFIGURED,
    MOD_CHANNEL,
    TOKEN,
    FakeDiscord,
    serve_fake,
    slash,
)

RAMP_RATES = (200, 400, 800, 1600, 3200, 6400)


# ---- the bot process ---------------------------------------------------------------------


class SlowDraftSink(DraftingSink):
    """Accepts at once, drafts for ``llm_s`` s in the background, posts to the mod channel."""

    async def request_joke(self, request: JokeRequest) -> RequestResult:
        self.draft_in_background(request)
        return RequestResult(RequestStatus.ACCEPTED, "Sent to the moderators.", request.request_key)

    def review_post(self, request: JokeRequest) -> OutboxEffect:
        origin = request.origin
        origin = type(origin)(**{**origin.__dict__, "mod_channel": str(MOD_CHANNEL)})
        key = request.request_key.split(":")[1][-20:]
        return OutboxEffect(
            f"{request.request_key}:1:0",
            request.request_key,
            EffectKind.REVIEW_POST,
            origin,
            {"token": f"t{key}", "card": self.card(request)},
            key,
        )


async def run_bot(args: argparse.Namespace) -> dict[str, Any]:
    """Start the fake in a child process, connect the bot to it, collect the fake's results."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.discord_load",
        "--role",
        "fake",
        *("--n", str(args.n), "--rate", str(args.rate), "--ramp-budget-s", str(args.ramp_budget_s)),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=ROOT,
    )
    assert child.stdout is not None
    assert child.stdin is not None
    port = json.loads(await child.stdout.readline())["port"]
    use_endpoints(f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/gateway")
    sink = SlowDraftSink(args.llm_s, scope_config=CONFIGURED)
    client, sink.sender = build_discord(sink, guild_ready_timeout=0.05)
    results: list[dict[str, Any]] = []
    async with client:
        task = asyncio.create_task(client.start(TOKEN))
        await client.wait_until_ready()
        if args.gc_freeze:
            freeze_gc()
        while line := await child.stdout.readline():
            result = json.loads(line)
            if result.get("phase") == "done":
                break
            if result.get("phase") == "main":
                result["peak_drafts_in_flight"] = sink.peak_in_flight
            results.append(result)
            print(json.dumps(result), flush=True)
        await asyncio.gather(*sink.tasks, return_exceptions=True)
        await client.close()
        await task
    child.stdin.close()
    await child.wait()
    main = next(r for r in results if r["phase"] == "main")
    under = [
        r["achieved_rate_per_s"]
        for r in results
        if r["ack_p99_ms"] < 100 and not r["missed_deadlines"]
    ]
    return {
        "n": main["n"],
        "rate_per_s": main["rate_per_s"],
        "achieved_rate_per_s": main["achieved_rate_per_s"],
        "llm_s": args.llm_s,
        "bot_gc_freeze": args.gc_freeze,
        "ack_p50_ms": main["ack_p50_ms"],
        "ack_p99_ms": main["ack_p99_ms"],
        "ack_max_ms": main["ack_max_ms"],
        "missed_deadlines": main["missed_deadlines"],
        "peak_drafts_in_flight": main["peak_drafts_in_flight"],
        "cards_posted": sink.cards,
        "card_errors": sink.card_errors,
        "max_rate_p99_under_100ms": max(under) if under else 0,
        "ramp": [
            {
                k: r[k]
                for k in ("rate_per_s", "achieved_rate_per_s", "ack_p99_ms", "missed_deadlines")
            }
            for r in results
            if r["phase"] == "ramp"
        ],
    }


# ---- the fake Discord + load generator process -------------------------------------------


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


async def load_step(fake: FakeDiscord, n: int, rate: float) -> dict[str, Any]:
    """Dispatch ``n`` /joke interactions at ``rate`` per second; ack latencies as measured here."""
    loop = asyncio.get_running_loop()
    ids: list[int] = []
    start = loop.time()
    async for _ in arrivals(n, rate):
        ids.append(await fake.interact(slash("joke", {"topic": "cats"}, user=ALICE)))
    sent_s = max(loop.time() - start, 1e-9)
    give_up = loop.time() + DEADLINE_S + 1.0
    # Polls the fake's own records; bounded by the deadline.
    while loop.time() < give_up and any(fake.ack_latency(i) is None for i in ids):  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    latencies = [fake.ack_latency(i) for i in ids]
    acked = sorted(x for x in latencies if x is not None)
    missed = sum(1 for x in latencies if x is None or x > DEADLINE_S)
    p99 = statistics.quantiles(acked, n=100, method="inclusive")[98] if len(acked) > 1 else 0.0
    return {
        "n": n,
        "rate_per_s": rate,
        "achieved_rate_per_s": round(n / sent_s if n > 1 else rate, 1),
        "ack_p50_ms": _ms(statistics.median(acked)) if acked else None,
        "ack_p99_ms": _ms(p99) if acked else float("inf"),
        "ack_max_ms": _ms(acked[-1]) if acked else None,
        "missed_deadlines": missed,
    }


async def run_fake(args: argparse.Namespace) -> None:
    """Serve the fake, wait for the bot, run the main load then the ramp; results on stdout."""
    async with serve_fake(deadline_s=DEADLINE_S) as fake:
        print(json.dumps({"port": fake.port}), flush=True)
        freeze_gc()  # the fake is measurement gear: keep its GC pauses out of the numbers
        await asyncio.wait_for(fake.identified.wait(), 30)
        await asyncio.sleep(0.3)  # let on_ready fire (guild_ready_timeout)
        main = await load_step(fake, args.n, args.rate)
        print(json.dumps({"phase": "main", **main}), flush=True)
        deadline = time.monotonic() + args.ramp_budget_s
        for rate in RAMP_RATES:
            n = min(int(rate * 2), 2000)
            if time.monotonic() + n / rate + DEADLINE_S + 1 > deadline:
                break
            await asyncio.sleep(args.llm_s)  # let the previous step's drafts finish
            step = await load_step(fake, n, rate)
            print(json.dumps({"phase": "ramp", **step}), flush=True)
            if step["ack_p99_ms"] >= 100 or step["missed_deadlines"]:
                break
            if step["achieved_rate_per_s"] < 0.8 * rate:
                break  # the generator itself cannot go faster
        await asyncio.sleep(args.llm_s + 1)  # the last step's drafts post their cards
        print(json.dumps({"phase": "done"}), flush=True)
        # Stay up until the bot has disconnected (it closes our stdin).
        await until_stdin_closes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=("bot", "fake"), default="bot")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--llm-s", type=float, default=2.0)
    parser.add_argument("--ramp-budget-s", type=float, default=60.0)
    parser.add_argument(
        "--gc-freeze",
        action="store_true",
        help="gc.freeze() the bot process once it is ready (not what production does today)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("discord").setLevel(logging.ERROR)  # PyNaCl/davey voice warnings
    if args.role == "fake":
        asyncio.run(run_fake(args))
        return
    summary = asyncio.run(run_bot(args))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
