"""ProfanityCheck, the real classifier: it scores, and its slow first load never blocks the loop."""

import json
import subprocess
import sys
import textwrap

from bot.classifier import ProfanityCheck
from bot.ports import Classifier

# Run in a fresh interpreter so the package is not imported yet: a heartbeat task ticks every
# 10 ms while the first score() loads the model; its longest gap is what the loop went without.
_FIRST_SCORE = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from bot.classifier import ProfanityCheck

    async def main():
        gaps, done = [], asyncio.Event()
        async def beat():
            last = time.perf_counter()
            while not done.is_set():
                await asyncio.sleep(0.01)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now
        task = asyncio.create_task(beat())
        start = time.perf_counter()
        score = await ProfanityCheck().score("what the fuck")
        took = time.perf_counter() - start
        done.set()
        await task
        print(json.dumps({"took": took, "gap": max(gaps), "score": score,
                          "imported": "profanity_check" in sys.modules}))

    asyncio.run(main())
    """
)


async def test_profanity_check_scores_crude_text_above_clean_text() -> None:
    classifier: Classifier = ProfanityCheck()

    crude = await classifier.score("Shut the fuck up, you stupid bitch.")
    clean = await classifier.score(
        "Why did the cat sit on the computer? To keep an eye on the mouse."
    )

    assert crude > 0.9
    assert clean < 0.2
    assert classifier.name.startswith("alt-profanity-check ")


async def test_profanity_check_scores_many_like_one_at_a_time() -> None:
    classifier = ProfanityCheck()
    texts = ["hello there", "you are a fucking idiot"]

    many = classifier.score_many(texts)

    assert many == [await classifier.score(t) for t in texts]


def test_profanity_check_first_score_loads_the_model_off_the_event_loop() -> None:
    out = subprocess.run(  # our own interpreter, our own script
        [sys.executable, "-c", _FIRST_SCORE],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )

    found = json.loads(out.stdout.strip().splitlines()[-1])

    assert found["imported"]
    assert found["score"] > 0.9
    # the load takes most of a second (longer on a busy machine); the loop kept ticking
    assert found["took"] > 0.2
    assert found["gap"] < max(0.25, found["took"] / 4)
