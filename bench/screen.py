"""Benchmark the draft screen: precision, recall and F1 on the labelled one-liners.

Usage: ``python -m bench.screen [--threshold 0.5] [--moderation]``. Scores every line of
``tests/data/one_liners.tsv`` (clean and offensive one-liners, see the README there) with the
screen the joke flow runs (:class:`bot.joke.screen.Screen` with the real classifier,
alt-profanity-check): each part alone (the bot's blocklist, the classifier at the threshold,
the provider's moderation with ``--moderation``, which needs ``OPENAI_API_KEY`` or
``OPENAI_BASE_URL``) and all of them combined, as a draft meets them. "Offensive" is the
positive class: precision is the share of screened-out lines that were offensive, recall the
share of offensive lines screened out. Also the classifier's load time and per-draft latency
through the async port, and a threshold sweep. The last line printed is one JSON object.
"""

import argparse
import asyncio
import csv
import json
import statistics
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.classifier import ProfanityCheck
from bot.joke.screen import BLOCKLIST, CLASSIFIER, MODERATION, Screen, ScreenPolicy, ScreenResult
from bot.ports import LLM

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "one_liners.tsv"
OFFENSIVE, CLEAN = "offensive", "clean"
SWEEP = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)


@dataclass(frozen=True)
class Line:
    """One labelled one-liner."""

    label: str
    text: str


@dataclass(frozen=True)
class Counts:
    """A confusion matrix with offensive as the positive class."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "f1": round(self.f1, 3),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
        }


def load(path: Path = DATA) -> list[Line]:
    """The labelled set: a TSV with a header, columns ``label`` and ``text``."""
    with path.open(encoding="utf-8", newline="") as f:
        lines = [Line(r["label"], r["text"]) for r in csv.DictReader(f, delimiter="\t")]
    if not lines or {line.label for line in lines} != {CLEAN, OFFENSIVE}:
        raise ValueError(f"{path}: expected lines labelled {CLEAN!r} and {OFFENSIVE!r}")
    return lines


def count(lines: list[Line], flagged: list[bool]) -> Counts:
    """The confusion matrix of ``flagged`` (one verdict per line) against the labels."""
    pairs = [(line.label == OFFENSIVE, hit) for line, hit in zip(lines, flagged, strict=True)]
    return Counts(
        tp=sum(1 for off, hit in pairs if off and hit),
        fp=sum(1 for off, hit in pairs if not off and hit),
        fn=sum(1 for off, hit in pairs if off and not hit),
        tn=sum(1 for off, hit in pairs if not off and not hit),
    )


async def screen_all(
    lines: list[Line], screen: Screen, policy: ScreenPolicy, llm: LLM | None
) -> tuple[list[ScreenResult], list[float]]:
    """Every line through the screen as a draft meets it; and each line's seconds."""
    results, seconds = [], []
    for line in lines:
        start = time.perf_counter()
        result = await screen.local(line.text, policy)
        if llm is not None:
            result = await screen.moderated(result, line.text, llm)
        seconds.append(time.perf_counter() - start)
        results.append(result)
    return results, seconds


def report(lines: list[Line], results: list[ScreenResult], *, moderation: bool) -> dict[str, Any]:
    """Precision, recall and F1 of each part and of the combined screen."""
    parts = [BLOCKLIST, CLASSIFIER, *([MODERATION] if moderation else [])]
    found = {part: count(lines, [part in r.fired for r in results]) for part in parts}
    combined = count(lines, [bool(r.fired) for r in results])
    return {"parts": {p: c.to_json() for p, c in found.items()}, "combined": combined.to_json()}


def sweep(lines: list[Line], results: list[ScreenResult]) -> dict[str, Any]:
    """The classifier alone and with the blocklist, at other thresholds (same scores)."""
    out: dict[str, Any] = {}
    for threshold in SWEEP:
        alone = [r.score is not None and r.score >= threshold for r in results]
        both = [hit or bool(r.blocked) for hit, r in zip(alone, results, strict=True)]
        out[f"{threshold:g}"] = {
            "classifier": count(lines, alone).to_json(),
            "with_blocklist": count(lines, both).to_json(),
        }
    return out


async def evaluate(threshold: float = 0.5, llm: LLM | None = None) -> dict[str, Any]:
    """The whole benchmark as one JSON-ready dict (the test pins its floors)."""
    lines = load()
    classifier = ProfanityCheck()
    start = time.perf_counter()
    await classifier.warm()
    load_s = time.perf_counter() - start
    results, seconds = await screen_all(lines, Screen(classifier), ScreenPolicy((), threshold), llm)
    quantiles = statistics.quantiles(seconds, n=100)
    return {
        "lines": len(lines),
        "offensive": sum(1 for line in lines if line.label == OFFENSIVE),
        "threshold": threshold,
        "classifier": classifier.name,
        "moderation": llm is not None,
        **report(lines, results, moderation=llm is not None),
        "sweep": sweep(lines, results),
        "classifier_load_s": round(load_s, 3),
        "screen_p50_ms": round(quantiles[49] * 1000, 2),
        "screen_p99_ms": round(quantiles[98] * 1000, 2),
    }


def _print(result: dict[str, Any]) -> None:
    print(f"{result['lines']} lines ({result['offensive']} offensive), {result['classifier']}")
    print(f"threshold {result['threshold']}, moderation {'on' if result['moderation'] else 'off'}")
    rows = [*result["parts"].items(), ("combined", result["combined"])]
    for name, c in rows:
        print(
            f"  {name:<11} precision {c['precision']:.3f}  recall {c['recall']:.3f}  "
            f"F1 {c['f1']:.3f}  (tp {c['tp']} fp {c['fp']} fn {c['fn']} tn {c['tn']})"
        )
    print("  threshold sweep (classifier alone / with the blocklist):")
    for threshold, s in result["sweep"].items():
        a, b = s["classifier"], s["with_blocklist"]
        print(
            f"    {threshold:>4}  P {a['precision']:.3f} R {a['recall']:.3f} F1 {a['f1']:.3f}"
            f"   /   P {b['precision']:.3f} R {b['recall']:.3f} F1 {b['f1']:.3f}"
        )
    print(
        f"classifier load {result['classifier_load_s']} s; screen per draft p50 "
        f"{result['screen_p50_ms']} ms, p99 {result['screen_p99_ms']} ms"
    )
    print(json.dumps(result))


async def _main(threshold: float, moderation: bool) -> dict[str, Any]:
    if not moderation:
        return await evaluate(threshold)
    from bot.app import make_llm  # the configured provider; only with --moderation
    from bot.config import Settings

    llm, _ = make_llm(Settings())
    try:
        return await evaluate(threshold, llm)
    finally:
        await llm.close()


def main() -> None:
    """Parse the arguments, run, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--moderation", action="store_true", help="ask the provider too")
    args = parser.parse_args()
    _print(asyncio.run(_main(args.threshold, args.moderation)))


if __name__ == "__main__":
    main()
