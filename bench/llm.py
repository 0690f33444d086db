"""Benchmark the embedded model: draft latency (cold and warm) and peak memory.

Usage: ``python bench/llm.py [--jokes 20] [--threads N]``. The cold start (import llama_cpp,
load the GGUF, first joke) is measured in a fresh subprocess; warm latencies and peak RSS
in this process. Drafts use the joke flow's own prompt, temperature and token limit
(``bot.joke.prompts``), so the figures are what a /joke costs. The last line printed is one
JSON object.
"""

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import time

from bot.joke import prompts
from bot.llm.embedded import EmbeddedChat
from bot.ports import ChatMessage

TOPICS = ("cats", "coffee", "trains", "the moon", "homework")


def messages(topic: str) -> list[ChatMessage]:
    """The joke flow's own prompt (system prompt, few-shot examples, delimited topic)."""
    return prompts.joke_messages(topic)


async def cold(threads: int | None) -> dict[str, float]:
    """Time import + load + first joke, as a fresh bot process would see it."""
    start = time.perf_counter()
    chat = EmbeddedChat(n_threads=threads)
    await chat.load()
    loaded = time.perf_counter()
    await chat.complete(messages(TOPICS[0]), max_tokens=prompts.MAX_TOKENS, seed=0)
    done = time.perf_counter()
    await chat.close()
    return {"cold_start_s": done - start, "load_s": loaded - start, "first_s": done - loaded}


async def warm(jokes: int, threads: int | None) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each of ``jokes`` drafts on an already-loaded model."""
    chat = EmbeddedChat(n_threads=threads)
    await chat.load()
    latencies, cpu = [], []
    try:
        for i in range(jokes):
            topic = TOPICS[i % len(TOPICS)]
            start, start_cpu = time.perf_counter(), time.process_time()
            text = await chat.complete(
                messages(topic),
                temperature=prompts.TEMPERATURE,
                max_tokens=prompts.MAX_TOKENS,
                seed=i,
            )
            latencies.append(time.perf_counter() - start)
            cpu.append(time.process_time() - start_cpu)
            first_line = text.splitlines()[0] if text else ""
            print(f"{latencies[-1]:6.3f}s  {topic:<9} {first_line[:90]}")
    finally:
        await chat.close()
    return latencies, cpu


def run_cold_subprocess(threads: int | None) -> dict[str, float]:
    args = [sys.executable, __file__, "--cold-only"]
    if threads:
        args += ["--threads", str(threads)]
    out = subprocess.run(args, capture_output=True, text=True, check=True, timeout=300)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jokes", type=int, default=20)
    parser.add_argument("--threads", type=int, default=None, help="default: min(2, cpus)")
    parser.add_argument("--cold-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_only:
        print(json.dumps(asyncio.run(cold(args.threads))))
        return
    load_before = os.getloadavg()[0]
    cold_start = run_cold_subprocess(args.threads)
    latencies, cpu = asyncio.run(warm(args.jokes, args.threads))
    cuts = statistics.quantiles(latencies, n=20, method="inclusive")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    summary = {
        "draft_p50_s": round(statistics.median(latencies), 3),
        "draft_p95_s": round(cuts[18], 3),
        "draft_max_s": round(max(latencies), 3),
        # CPU seconds (all threads): wall >> cpu / threads means the machine was busy.
        "draft_cpu_p50_s": round(statistics.median(cpu), 3),
        "cold_start_s": round(cold_start["cold_start_s"], 3),
        "model_load_s": round(cold_start["load_s"], 3),
        "cold_first_draft_s": round(cold_start["first_s"], 3),
        "rss_mb": round(rss_mb, 1),
        "jokes": len(latencies),
        "threads": args.threads or "default",
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
