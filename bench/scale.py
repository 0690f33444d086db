"""Benchmark: one vs three bot processes on one PostgreSQL schema, ``/joke`` with a fake LLM.

Each process (``bench/_scale_worker.py``, a ``python -m`` subprocess) runs the real core —
store, runtime, joke flow, service — with an LLM of fixed latency and a sender that accepts
everything and approves each review card at once. ``--requests`` requests are submitted at
``--rate`` per second in all, split evenly over the processes (each through its own service);
every card is approved, every joke published. Measured from the database afterwards: drafts
per second (review cards written per second, first request to last card), outbox delivery
(an effect's commit to its ``done``) and request-to-card latency; in the workers: decide
latency (the click through the service). Then the ratio three/one for drafting.

By default each process drafts one run at a time (``--concurrency 1``), so a process's drafting
rate is set by the LLM's latency and more processes add drafting slots; with more slots per
process (``--concurrency 4``) one process is bound by CPU instead, which on a 2-core machine
more processes cannot add. The offered rate is above one process's capacity, so the drafting
rate measured is a capacity.

Run: ``.venv/bin/python -m bench.scale [--requests 300] [--rate 60] [--llm-ms 50]
[--concurrency 1] [--postgres URL]``. 127.0.0.1 only; bounded by ``--timeout`` per case.
The last line printed is one JSON object.
"""

import argparse
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import psycopg

from bench._load import ROOT
from bench._pg import DEFAULT_URL, pct, reachable, scratch_schema

READY_S = 60.0


@dataclass
class Case:
    """What one case (a number of processes) measured."""

    procs: int
    finished: int
    published: int
    drafts_per_s: float
    decide_s: list[float]
    delivery_s: list[float]
    card_s: list[float]
    seconds: float
    cpu_ms_per_request: float  # the bot processes' CPU (not the server's), per request

    def summary(self) -> dict[str, Any]:
        return {
            "procs": self.procs,
            "finished": self.finished,
            "published": self.published,
            "drafts_per_s": round(self.drafts_per_s, 1),
            "decide_p50_ms": round(pct(self.decide_s, 0.5), 2),
            "decide_p99_ms": round(pct(self.decide_s, 0.99), 2),
            "delivery_p50_ms": round(pct(self.delivery_s, 0.5), 2),
            "delivery_p99_ms": round(pct(self.delivery_s, 0.99), 2),
            "card_p50_ms": round(pct(self.card_s, 0.5), 1),
            "card_p99_ms": round(pct(self.card_s, 0.99), 1),
            "seconds": round(self.seconds, 2),
            "cpu_ms_per_request": round(self.cpu_ms_per_request, 1),
        }


def spawn(url: str, index: int, args: argparse.Namespace, procs: int) -> subprocess.Popen[str]:
    share = [str(args.requests // procs), str(args.rate / procs)]
    knobs = [str(args.llm_ms), str(args.concurrency)]
    return subprocess.Popen(
        [sys.executable, "-m", "bench._scale_worker", url, str(index), *share, *knobs],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def counts(url: str) -> tuple[int, int]:
    """Finished runs, and runs that are over or still have open effects."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT (SELECT COUNT(*) FROM runs WHERE status = 'finished'), "
            "(SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'in_flight'))"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def measured(url: str) -> tuple[float, list[float], list[float], int]:
    """Drafts per second, delivery and request-to-card latencies, public posts, from the rows."""
    with psycopg.connect(url) as conn:
        first = conn.execute("SELECT MIN(created_at) FROM runs").fetchone()
        cards = conn.execute(
            "SELECT o.created_at, o.updated_at, r.created_at FROM outbox o "
            "JOIN runs r ON r.run_id = o.run_id WHERE o.kind = 'review.post'"
        ).fetchall()
        done = conn.execute(
            "SELECT updated_at - created_at FROM outbox WHERE status = 'done'"
        ).fetchall()
        posts = conn.execute("SELECT COUNT(*) FROM outbox WHERE kind = 'publish'").fetchone()
    assert first is not None
    assert posts is not None
    window = max(c[0] for c in cards) - float(first[0]) if cards else 0.0
    drafts = len(cards) / window if window > 0 else 0.0
    return drafts, [float(d[0]) for d in done], [c[1] - c[2] for c in cards], int(posts[0])


def run_case(server: str, args: argparse.Namespace, procs: int) -> Case:
    """Start ``procs`` workers on a fresh schema, let them work, stop them, measure."""
    with scratch_schema(server) as url:
        children = [spawn(url, i, args, procs) for i in range(procs)]
        try:
            for child in children:
                assert child.stdout is not None
                if child.stdout.readline() != "ready\n":
                    raise RuntimeError("a worker did not start")
            t0 = time.monotonic()
            for child in children:
                assert child.stdin is not None
                child.stdin.write("go\n")
                child.stdin.flush()
            total = (args.requests // procs) * procs
            while time.monotonic() - t0 < args.timeout:
                finished, open_effects = counts(url)
                if finished >= total and open_effects == 0:
                    break
                time.sleep(0.1)
            seconds = time.monotonic() - t0
            reports = [stop(child) for child in children]
            drafts, delivery, card, posts = measured(url)
            finished, _ = counts(url)
        finally:
            for child in children:
                if child.poll() is None:
                    child.kill()
                    child.wait()
    decide = [s for r in reports for s in r["decide_s"]]
    cpu = sum(float(r["cpu_s"]) for r in reports) * 1000 / max(1, total)
    return Case(procs, finished, posts, drafts, decide, delivery, card, seconds, cpu)


def stop(child: subprocess.Popen[str]) -> dict[str, Any]:
    """Close the worker's stdin; its last line is its JSON report."""
    out, _ = child.communicate(timeout=READY_S)
    lines = [line for line in out.splitlines() if line.startswith("{")]
    if child.returncode != 0 or not lines:
        raise RuntimeError(f"worker failed (exit {child.returncode})")
    report: dict[str, Any] = json.loads(lines[-1])
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--postgres", default=DEFAULT_URL, help="server (a scratch schema is used)")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rate", type=float, default=60.0, help="requests per second, in all")
    parser.add_argument("--llm-ms", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=1, help="runs drafting per process")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per case at most")
    args = parser.parse_args()
    if (problem := reachable(args.postgres)) is not None:
        print(f"no PostgreSQL at {args.postgres}: {problem}")
        print(json.dumps({"skipped": "no PostgreSQL server"}))
        return
    print(
        f"{args.requests} /joke at {args.rate:.0f}/s in all, LLM {args.llm_ms:.0f} ms, "
        f"{args.concurrency} drafting per process; every card approved at once"
    )
    cases = {procs: run_case(args.postgres, args, procs) for procs in (1, 3)}
    for case in cases.values():
        s = case.summary()
        print(
            f"{case.procs} process(es): {s['drafts_per_s']} drafts/s; decide p50 "
            f"{s['decide_p50_ms']} ms, p99 {s['decide_p99_ms']} ms; outbox delivery p50 "
            f"{s['delivery_p50_ms']} ms, p99 {s['delivery_p99_ms']} ms; request to card p50 "
            f"{s['card_p50_ms']} ms, p99 {s['card_p99_ms']} ms; {case.finished} finished, "
            f"{case.published} published, {s['seconds']} s; "
            f"{s['cpu_ms_per_request']} ms of bot CPU per request"
        )
    one, three = cases[1].drafts_per_s, cases[3].drafts_per_s
    ratio = three / one if one else 0.0
    print(f"drafting three/one: {ratio:.2f} (goal >= 2.5)")
    result: dict[str, Any] = {
        "requests": args.requests,
        "rate": args.rate,
        "llm_ms": args.llm_ms,
        "concurrency": args.concurrency,
        "one": cases[1].summary(),
        "three": cases[3].summary(),
        "drafts_ratio": round(ratio, 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
