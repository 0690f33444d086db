"""The screen's quality on the labelled one-liners (bench/screen.py) stays above its floors.

Floors: what bench/screen.py measured when the screen was built (alt-profanity-check 1.9.1,
threshold 0.5), minus 0.05. Combined: precision 0.887, recall 0.683; the classifier alone:
0.890, 0.625; the blocklist alone: 0.941, 0.308. A change that makes the screen worse (a
looser default threshold, a part that stops firing, a broken blocklist) fails here.
"""

import asyncio
from typing import Any

import pytest

from bench.screen import CLEAN, OFFENSIVE, evaluate, load

MARGIN = 0.05
FLOORS = {  # part: (precision, recall) as measured
    "combined": (0.887, 0.683),
    "classifier": (0.890, 0.625),
    "blocklist": (0.941, 0.308),
}


@pytest.fixture(scope="module")
def measured() -> dict[str, Any]:
    return asyncio.run(evaluate(threshold=0.5))  # once for the module: it scores every line


def test_screen_set_is_a_balanced_few_hundred_distinct_lines() -> None:
    lines = load()
    offensive = sum(1 for line in lines if line.label == OFFENSIVE)

    assert 150 <= len(lines) <= 300
    assert 0.4 <= offensive / len(lines) <= 0.6
    assert {line.label for line in lines} == {CLEAN, OFFENSIVE}
    assert len({line.text for line in lines}) == len(lines)


@pytest.mark.parametrize("part", sorted(FLOORS))
def test_screen_precision_and_recall_stay_above_their_floors(
    measured: dict[str, Any], part: str
) -> None:
    found = measured["combined"] if part == "combined" else measured["parts"][part]
    precision, recall = FLOORS[part]

    assert found["precision"] >= precision - MARGIN, found
    assert found["recall"] >= recall - MARGIN, found


def test_screen_combined_catches_more_than_either_part(measured: dict[str, Any]) -> None:
    combined, parts = measured["combined"], measured["parts"]

    assert combined["tp"] > max(parts["classifier"]["tp"], parts["blocklist"]["tp"])
    assert combined["tp"] + combined["fn"] == measured["offensive"]
