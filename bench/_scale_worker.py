"""One bot process of ``bench/scale.py``: the real core on PostgreSQL, a fake LLM, a no-op sender.

Usage: ``python -m bench._scale_worker URL INDEX REQUESTS RATE LLM_MS CONCURRENCY``. It opens
the core (store, joke flow, runtime, service) with runner id ``scale-<INDEX>``, serves, prints
``ready``, waits for a ``go`` line, submits ``REQUESTS`` ``/joke`` requests through the service
at ``RATE`` per second, and approves every review card its sender receives (a moderator's
click through the service). When stdin closes it prints one JSON line with its figures.
"""

import asyncio
import json
import logging
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench._load import arrivals
from bot.app import open_core
from bot.joke import JokeOptions
from bot.models import Actor, DecisionRequest, EffectKind, JokeRequest, Origin, OutboxEffect
from bot.ports import ChatMessage
from bot.service import JokeService

PLATFORM = "bench"
MOD = Actor(PLATFORM, "mod", "@mod", is_moderator=True)
WORDS = ("router", "kettle", "spreadsheet", "cactus", "tram", "violin", "teapot", "glacier")


class FixedLatencyLLM:
    """A ``bot.ports.LLM`` that takes ``seconds`` and answers a different clean joke each time."""

    label = "bench LLM (fixed latency)"
    model_id = "bench-fixed"
    wants_avoid_list = False

    def __init__(self, seconds: float, tag: str) -> None:
        self.seconds, self.tag, self.calls = seconds, tag, 0

    async def complete(self, messages: Sequence[ChatMessage], **kwargs: Any) -> str:
        self.calls += 1
        await asyncio.sleep(self.seconds)
        a, b = WORDS[self.calls % len(WORDS)], WORDS[(self.calls // len(WORDS)) % len(WORDS)]
        take = f"{self.tag}{self.calls}"
        return f"Why did the {a} visit the {b}? It needed a change of scene, take {take}."

    async def moderate(self, text: str) -> bool | None:
        return None


class ClickingSender:
    """Accepts every effect at once; a review card is approved right away, the click timed."""

    def __init__(self) -> None:
        self.service: JokeService | None = None
        self.decide_s: list[float] = []
        self.statuses: dict[str, int] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    async def send(self, effect: OutboxEffect) -> str:
        if effect.kind == EffectKind.REVIEW_POST:
            task = asyncio.create_task(self._click(str(effect.payload["token"])))
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        return f"ref-{effect.dedupe_key}"

    async def reconcile(self, effect: OutboxEffect) -> str | None:
        return None

    async def exists(self, effect: OutboxEffect) -> bool | None:
        return True

    async def _click(self, token: str) -> None:
        assert self.service is not None
        request = DecisionRequest(token, "approve", MOD, f"click:{token}")
        t0 = time.perf_counter()
        result = await self.service.decide(request)
        self.decide_s.append(time.perf_counter() - t0)
        self.statuses[str(result.status)] = self.statuses.get(str(result.status), 0) + 1


async def line() -> str:
    """The next line of stdin ('' at its end), read off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)


async def work(url: str, index: int, requests: int, rate: float, llm_ms: float, slots: int) -> None:
    logging.basicConfig(level=logging.WARNING)
    llm = FixedLatencyLLM(llm_ms / 1000, f"{index}.")
    options = JokeOptions(cooldown_s=0.0, concurrency=slots, scope_max_active=0)
    sender = ClickingSender()
    submit_s: list[float] = []
    cpu_s = 0.0
    async with open_core(
        database_url=url, llm=llm, options=options, runner_id=f"scale-{index}"
    ) as core:
        sender.service = core.service
        core.register_sender(PLATFORM, sender)
        async with core.serving():
            print("ready", flush=True)
            if (await line()).strip() != "go":
                return
            cpu0 = time.process_time()
            async for n in arrivals(requests, rate):
                requester = Actor(PLATFORM, f"u{index}-{n}", f"@u{index}-{n}")
                origin = Origin(PLATFORM, "s", requester, "mods", "jokes", "general")
                t0 = time.perf_counter()
                await core.service.request_joke(JokeRequest(f"b:{index}:{n}", origin, "cats"))
                submit_s.append(time.perf_counter() - t0)
            await line()  # the orchestrator closes stdin once every run is over
            await asyncio.gather(*sender.tasks)
            cpu_s = time.process_time() - cpu0
    report = {
        "index": index,
        "llm_calls": llm.calls,
        "cpu_s": cpu_s,
        "submit_s": submit_s,
        "decide_s": sender.decide_s,
        "statuses": sender.statuses,
    }
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    url, index, requests, rate, llm_ms, slots = sys.argv[1:7]
    asyncio.run(work(url, int(index), int(requests), float(rate), float(llm_ms), int(slots)))
