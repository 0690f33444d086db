"""Load test of ``jokebot serve``: Discord and Slack in one process, each reviewed on the other.

Two processes. This one is the measurement gear: the fake Discord, the fake Slack (HTTP mode:
it POSTs signed requests to the bot), a fake OpenAI-compatible model answering every
completion after ``--llm-s`` seconds, and the people. The other is the real ``python -m bot
serve`` (tests/support/serve_child.py) on a SQLite file. The guild's reviews are routed to
Slack's moderator channel and the workspace's to Discord's (link codes, as admins do), so every
request gets a card on both platforms.

``/joke`` arrives at ``--rate`` per second, alternately from Discord and Slack. As soon as a
request's two cards are out, a moderator on the *other* platform approves it. Measured here:

- ack of ``/joke`` per platform (Discord: dispatch to the interaction callback; Slack: the
  signed POST to its HTTP response), p50/p99/max, and acks later than the 3 s deadline;
- the same for the Approve clicks;
- click to every card edited (both copies lose their buttons), p50/p99/max;
- cards and public posts (each approved joke posted exactly once, on its own platform).

Run::

    .venv/bin/python -m bench.serve_load [--n 1000] [--rate 100] [--llm-s 2]

The last line is one JSON object.
"""

import argparse
import asyncio
import contextlib
import json
import logging
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from bench._load import DEADLINE_S, arrivals, freeze_gc
from bot.clock import SystemClock
from tests.support.cross_platform import link_code
from tests.support.fake_discord import (
    ADMIN,
    ALICE,
    APP_ID,
    BOT_ID,
    MOD,
    MOD_CHANNEL,
    PUBLIC_CHANNEL,
    FakeDiscord,
    button_ids,
    click,
    jokeconfig,
    serve_fake,
    slash,
)
from tests.support.fake_slack import FakeSlack, Message
from tests.support.serve_child import ServeChild, SlackClient

CHANNELS = {"CMOD": "mods", "CPUB": "jokes", "CGEN": "general"}
SLACK_MOD = "UMOD"
TOKEN = re.compile(r"jk:v1:([A-Za-z0-9]+):approve")
TOPIC = re.compile(r"(discord|slack)-(\d+)")
PLATFORMS = ("discord", "slack")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def summary(values: list[float | None]) -> dict[str, Any]:
    """p50/p99/max in ms of what arrived, and how many did not arrive within the deadline."""
    got = sorted(v for v in values if v is not None)
    p99 = statistics.quantiles(got, n=100, method="inclusive")[98] if len(got) > 1 else 0.0
    return {
        "n": len(values),
        "p50_ms": _ms(statistics.median(got)) if got else None,
        "p99_ms": _ms(p99) if got else None,
        "max_ms": _ms(got[-1]) if got else None,
        "missed_deadlines": sum(1 for v in values if v is None or v > DEADLINE_S),
    }


# ---- the model -----------------------------------------------------------------------------


@asynccontextmanager
async def slow_model(llm_s: float) -> AsyncIterator[str]:
    """An OpenAI-compatible server whose completions take ``llm_s`` seconds; yields its base URL."""

    async def chat(request: web.Request) -> web.StreamResponse:
        asked = await request.json()
        await asyncio.sleep(llm_s)
        joke = "What do you call a pile of cats? A meowtain."
        head = {"id": "chatcmpl-bench", "created": int(time.time()), "model": "bench"}
        if not asked.get("stream"):
            message = {"role": "assistant", "content": joke}
            choice = {"index": 0, "finish_reason": "stop", "message": message}
            return web.json_response({**head, "object": "chat.completion", "choices": [choice]})
        # the bot streams its drafts (stream=True): answer as OpenAI does, in SSE chunks
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        chunk = {**head, "object": "chat.completion.chunk"}
        for delta, finish in (({"role": "assistant", "content": joke}, None), ({}, "stop")):
            choice = {"index": 0, "delta": delta, "finish_reason": finish}
            data = json.dumps({**chunk, "choices": [choice]})
            await response.write(f"data: {data}\n\n".encode())
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def moderations(request: web.Request) -> web.Response:
        await request.read()
        result = {"flagged": False, "categories": {}, "category_scores": {}}
        return web.json_response({"id": "modr-bench", "model": "bench", "results": [result]})

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_post("/v1/moderations", moderations)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/v1"
    finally:
        await runner.cleanup()


# ---- the people ----------------------------------------------------------------------------


async def discord_command(fake: FakeDiscord, payload: dict[str, Any]) -> str:
    """A slash command's answer text (the message, or the followup after a defer)."""
    since = len(fake.calls)
    iid = await fake.interact(payload)
    answer = await fake.wait_for_path("POST", rf"/interactions/{iid}/[^/]+/callback", timeout=20)
    if answer.body["type"] == 4:
        return str(answer.body["data"]["content"])
    hook = rf"/webhooks/{APP_ID}/{payload['token']}"
    return str((await fake.wait_for_path("POST", hook, since=since, timeout=20)).body["content"])


async def cross_route(discord: FakeDiscord, slack: SlackClient) -> None:
    """Configure the guild; its reviews to Slack's #mods, the workspace's to Discord's."""
    said = await discord_command(discord, jokeconfig(user=ADMIN))
    assert said.startswith("Done."), said
    code = link_code(await discord_command(discord, slash("jokelink", {}, user=ADMIN)))
    _, text = await slack.command(f"link {code}", user=SLACK_MOD, channel="CMOD")
    assert "now reviewed" in json.loads(text)["text"], text
    _, text = await slack.command("link", user=SLACK_MOD, channel="CMOD")
    code = link_code(json.loads(text)["text"])
    typed = slash("jokelink", {"code": code}, user=ADMIN, channel_id=MOD_CHANNEL)
    answer = await discord_command(discord, typed)
    assert "now reviewed" in answer, answer


@dataclass
class Review:
    """One request's two cards and the approval of it."""

    origin: str  # the platform it was asked on
    index: int  # its place in the load: asked at ``Load.asked[index]``
    discord: dict[str, Any] | None = None  # the Discord card message
    slack: Message | None = None  # the Slack card message (edited in place by the fake)
    clicked_at: float | None = None
    click_iid: int | None = None  # a Discord click's interaction id
    click_ack_s: float | None = None  # a Slack click's HTTP response time
    edited_at: float | None = None
    cards_at: float | None = None  # when both cards were first seen

    def live(self) -> tuple[bool, bool]:
        assert self.discord is not None
        assert self.slack is not None
        on_discord = bool(button_ids(self.discord))
        on_slack = any(b.get("type") == "actions" for b in self.slack.blocks)
        return on_discord, on_slack


@dataclass
class Load:
    """The load generator's records."""

    discord: FakeDiscord
    slack: SlackClient
    joke_iids: list[int] = field(default_factory=list)
    slack_acks: list[float | None] = field(default_factory=list)
    reviews: dict[str, Review] = field(default_factory=dict)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    slack_answers: Counter[str] = field(default_factory=Counter)
    asked: dict[int, float] = field(default_factory=dict)  # request index -> monotonic time
    _seen: dict[str, int] = field(default_factory=lambda: {"discord": 0, "slack": 0})

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def ask_on_slack(self, i: int) -> None:
        start = time.monotonic()
        try:
            status, text = await self.slack.command(f"slack-{i}", user="UREQ", channel="CGEN")
        except aiohttp.ClientError:
            self.slack_acks.append(None)
            return
        took = time.monotonic() - start
        self.slack_acks.append(took if status == 200 else None)
        self.slack_answers[json.loads(text)["text"][:40] if status == 200 else str(status)] += 1

    async def run(self, n: int, rate: float) -> float:
        """``n`` requests at ``rate``/s, alternately Discord and Slack; the rate achieved."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        async for i in arrivals(n, rate):
            self.asked[i] = time.monotonic()
            if i % 2 == 0:
                payload = slash("joke", {"topic": f"discord-{i}"}, user=ALICE)
                self.joke_iids.append(await self.discord.interact(payload))
            else:
                self.spawn(self.ask_on_slack(i))
        return n / max(loop.time() - start, 1e-9)

    def discover(self) -> None:
        """Find new cards on both platforms and file them under their review's token."""
        fresh = self.discord.messages(MOD_CHANNEL)[self._seen["discord"] :]
        self._seen["discord"] += len(fresh)
        for m in fresh:
            if m["author"]["id"] == str(BOT_ID):
                self._file(json.dumps(m), discord=m)
        messages = self.slack.fake.messages("CMOD")
        new = messages[self._seen["slack"] :]
        self._seen["slack"] += len(new)
        for s in new:
            if s.by_bot:
                self._file(json.dumps(s.blocks), slack=s)

    def _file(self, text: str, **card: Any) -> None:
        token, topic = TOKEN.search(text), TOPIC.search(text)
        if token is None or topic is None:
            return  # an alert, or a link answer
        review = self.reviews.setdefault(
            token.group(1), Review(topic.group(1), int(topic.group(2)))
        )
        for key, value in card.items():
            setattr(review, key, value)

    async def moderate(self, until: asyncio.Event, n: int) -> None:
        """Approve each review on the other platform once both cards are out; time the edits.

        Returns once ``until`` is set and all ``n`` reviews were approved, edited and published.
        """
        while True:
            self.discover()
            now = time.monotonic()
            for review in self.reviews.values():
                if review.discord is None or review.slack is None:
                    continue
                if review.clicked_at is None:
                    review.cards_at = review.clicked_at = now
                    self.spawn(self._approve(review))
                elif review.edited_at is None and review.live() == (False, False):
                    review.edited_at = now
            edited = sum(1 for r in self.reviews.values() if r.edited_at is not None)
            if until.is_set() and edited >= n and sum(self.posts().values()) >= n:
                return
            await asyncio.sleep(0.005)

    def posts(self) -> dict[str, int]:
        """The bot's public posts so far, per platform."""
        on_discord = self.discord.messages(PUBLIC_CHANNEL)
        return {
            "discord": sum(1 for m in on_discord if m["author"]["id"] == str(BOT_ID)),
            "slack": len(self.slack.fake.messages("CPUB")),
        }

    async def _approve(self, review: Review) -> None:
        assert review.discord is not None
        assert review.slack is not None
        if review.origin == "discord":  # decided in Slack
            start = time.monotonic()
            card = {"ts": review.slack.ts, "text": review.slack.text, "blocks": review.slack.blocks}
            status, _ = await self.slack.click(card, "approve", user=SLACK_MOD)
            review.click_ack_s = time.monotonic() - start if status == 200 else None
        else:  # decided in Discord
            [approve] = [b for b in button_ids(review.discord) if b.endswith(":approve")]
            review.click_iid = await self.discord.interact(click(approve, review.discord, user=MOD))


async def bench(args: argparse.Namespace) -> dict[str, Any]:
    """Start everything, run the load, collect the figures."""
    with tempfile.TemporaryDirectory(prefix="serve-load-") as tmp:
        async with (
            slow_model(args.llm_s) as model_url,
            serve_fake(deadline_s=DEADLINE_S) as discord,
            FakeSlack(CHANNELS, clock=SystemClock(), short_pages=False) as slack_fake,
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http,
        ):
            # a capacity test: no per-scope limit (every request drafts, none waits in line)
            env = {
                "LOG_LEVEL": "WARNING",
                "SCOPE_MAX_ACTIVE": "0",
                **dict(kv.split("=", 1) for kv in args.env),
            }
            bot = ServeChild(
                Path(tmp) / "serve.db",
                discord_port=discord.port,
                slack=slack_fake,
                llm_base_url=model_url,
                **env,
            )
            slack = SlackClient(slack_fake, bot.slack_port, http)
            try:
                await bot.start()
                await cross_route(discord, slack)
                freeze_gc()  # the fakes are measurement gear: keep their GC pauses out
                cpu_before, began = bot.cpu_seconds(), time.monotonic()
                load = Load(discord, slack)
                loaded = asyncio.Event()
                moderating = asyncio.create_task(load.moderate(loaded, args.n))
                achieved = await load.run(args.n, args.rate)
                await asyncio.sleep(DEADLINE_S + 0.5)  # every ack is in, or late
                await asyncio.gather(*list(load.tasks), return_exceptions=True)
                loaded.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(moderating, args.llm_s + args.drain_s)
                await asyncio.gather(*list(load.tasks), return_exceptions=True)
                bot_cpu_s = bot.cpu_seconds() - cpu_before
                wall_s = time.monotonic() - began
            finally:
                await bot.kill()
            tracebacks = bot.tracebacks()
            posts = load.posts()
    reviews = list(load.reviews.values())
    done = [r for r in reviews if r.edited_at is not None and r.clicked_at is not None]
    edit_s = [r.edited_at - r.clicked_at for r in done if r.edited_at and r.clicked_at]
    clicks_discord = [discord.ack_latency(r.click_iid) for r in reviews if r.click_iid is not None]
    clicks_slack = [r.click_ack_s for r in reviews if r.origin == "discord" and r.clicked_at]
    joke = {
        "discord": summary([discord.ack_latency(i) for i in load.joke_iids]),
        "slack": summary(list(load.slack_acks)),
    }
    clicks = {"discord": summary(clicks_discord), "slack": summary(clicks_slack)}
    edits = summary(list(edit_s))
    card_s = [r.cards_at - load.asked[r.index] for r in reviews if r.cards_at is not None]
    cards = summary(list(card_s))
    return {
        "n": args.n,
        "rate_per_s": args.rate,
        "achieved_rate_per_s": round(achieved, 1),
        "llm_s": args.llm_s,
        "env": env,
        "ack_p99_ms": {p: joke[p]["p99_ms"] for p in PLATFORMS},
        "ack_p50_ms": {p: joke[p]["p50_ms"] for p in PLATFORMS},
        "ack_max_ms": {p: joke[p]["max_ms"] for p in PLATFORMS},
        "click_ack_p99_ms": {p: clicks[p]["p99_ms"] for p in PLATFORMS},
        "missed_deadlines": sum(x["missed_deadlines"] for x in (*joke.values(), *clicks.values())),
        "click_to_every_card_edited_p50_ms": edits["p50_ms"],
        "click_to_every_card_edited_p99_ms": edits["p99_ms"],
        "click_to_every_card_edited_max_ms": edits["max_ms"],
        "cards_seen": {
            "discord": sum(1 for r in reviews if r.discord),
            "slack": sum(1 for r in reviews if r.slack),
        },
        "request_to_both_cards_p50_ms": cards["p50_ms"],
        "request_to_both_cards_p99_ms": cards["p99_ms"],
        "reviews_with_both_cards": sum(1 for r in reviews if r.discord and r.slack),
        "reviews_edited": len(done),
        "public_posts": posts,
        "slack_answers": dict(load.slack_answers.most_common(3)),
        "bot_cpu_ms_per_request": round(bot_cpu_s * 1000 / args.n, 1),
        "bot_cpu_share_of_one_core": round(bot_cpu_s / wall_s, 2),
        "wall_s": round(wall_s, 1),
        "bot_tracebacks": len(tracebacks),
        "load_average_1m": round(os.getloadavg()[0], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--llm-s", type=float, default=2.0)
    parser.add_argument("--drain-s", type=float, default=120.0, help="wait for cards and edits")
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for the bot")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    print(json.dumps(asyncio.run(bench(args))))


if __name__ == "__main__":
    main()
