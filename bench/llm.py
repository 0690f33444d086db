"""Benchmark the LLM providers: draft latency (cold and warm), streaming, peak memory.

Usage: ``python bench/llm.py [--jokes 20] [--threads N] [--base-url URL --model M]``. The cold
start (import llama_cpp, load the GGUF, first joke) is measured in a fresh subprocess; warm
latencies and peak RSS in this process. Drafts use the joke flow's own prompt, temperature and
token limit (``bot.joke.prompts``), so the figures are what a /joke costs.

Streaming (what the "try it" page sees): time to the first delta and tokens per second, for
the embedded provider (llama.cpp in a worker thread, pieces handed to the loop) and for the
OpenAI-compatible provider (the real openai client with ``stream=True``) against
``--base-url`` (key from ``OPENAI_API_KEY``) or, by default, a loopback server streaming the
same embedded model (``bench/_openai_local.py``), which shows what the HTTP/SSE path adds.
Tokens per second are the deltas over the time from the request to the last one (llama.cpp
streams one token per delta); measured from the request rather than between the first and last
delta, because HTTP may hand several deltas over at once, which would inflate a rate taken
between arrivals. The last line printed is one JSON object.
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
from bot.llm.openai_chat import OpenAIChat
from bot.ports import LLM, ChatMessage

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


async def streaming(llm: LLM, jokes: int) -> dict[str, float]:
    """Median time to the first delta and tokens per second over ``jokes`` drafts."""
    firsts, rates = [], []
    for i in range(jokes):
        stamps: list[float] = []

        def stamp(_: str, stamps: list[float] = stamps) -> None:
            stamps.append(time.perf_counter())

        start = time.perf_counter()
        await llm.complete(
            messages(TOPICS[i % len(TOPICS)]),
            temperature=prompts.TEMPERATURE,
            max_tokens=prompts.MAX_TOKENS,
            seed=i,
            on_delta=stamp,
        )
        firsts.append(stamps[0] - start)
        rates.append(len(stamps) / (stamps[-1] - start))
    return {
        "first_delta_p50_s": round(statistics.median(firsts), 3),
        "first_delta_max_s": round(max(firsts), 3),
        "tokens_per_s_p50": round(statistics.median(rates), 1) if rates else 0.0,
    }


async def stream_embedded(jokes: int, threads: int | None) -> dict[str, float]:
    chat = EmbeddedChat(n_threads=threads)
    await chat.load()
    try:
        return await streaming(chat, jokes)
    finally:
        await chat.close()


async def stream_openai(jokes: int, base_url: str, model: str) -> dict[str, float]:
    key = os.environ.get("OPENAI_API_KEY")
    chat = OpenAIChat(model=model, api_key=key, base_url=base_url, timeout=60, max_retries=0)
    try:
        await streaming(chat, 1)  # connection set up, not measured
        return await streaming(chat, jokes)
    finally:
        await chat.close()


def openai_figures(args: argparse.Namespace) -> tuple[str, dict[str, float]]:
    """Streaming figures of the OpenAI-compatible provider, and what it ran against."""
    if args.base_url:
        return args.base_url, asyncio.run(stream_openai(args.jokes, args.base_url, args.model))
    from bench._openai_local import LocalOpenAIServer  # imports llama_cpp

    with LocalOpenAIServer(n_threads=args.threads or min(2, os.cpu_count() or 1)) as server:
        figures = asyncio.run(stream_openai(args.jokes, server.base_url, "smollm2-local"))
    return "loopback server over the embedded model", figures


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
    parser.add_argument("--base-url", default="", help="an OpenAI-compatible .../v1 to stream")
    parser.add_argument("--model", default="gpt-4o-mini", help="the model at --base-url")
    parser.add_argument("--cold-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cold_only:
        print(json.dumps(asyncio.run(cold(args.threads))))
        return
    load_before = os.getloadavg()[0]
    cold_start = run_cold_subprocess(args.threads)
    latencies, cpu = asyncio.run(warm(args.jokes, args.threads))
    embedded_stream = asyncio.run(stream_embedded(args.jokes, args.threads))
    openai_target, openai_stream = openai_figures(args)
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
        "embedded_stream": embedded_stream,
        "openai_stream": openai_stream,
        "openai_stream_target": openai_target,
        "rss_mb": round(rss_mb, 1),
        "jokes": len(latencies),
        "threads": args.threads or "default",
        "loadavg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
