"""ProfanityCheck: alt-profanity-check behind the Classifier port, loaded once, off the loop.

Importing the package unpickles its model (scikit-learn), which takes about a second and
blocks; the first ``score`` (or ``warm``) does it in a worker thread, once per process, and
every later call scores in a worker thread too, so the event loop never waits on it.
"""

import asyncio
import threading
import warnings
from collections.abc import Callable, Sequence
from importlib import metadata

Predict = Callable[[Sequence[str]], list[float]]

PACKAGE = "alt-profanity-check"
_lock = threading.Lock()
_predict: Predict | None = None


def load() -> Predict:
    """The package's ``predict_prob`` as a typed function; imported once per process."""
    global _predict
    with _lock:
        if _predict is None:
            with warnings.catch_warnings():
                # the pickled model may come from another scikit-learn minor version; the
                # package pins a compatible range, so its warning says nothing actionable
                warnings.simplefilter("ignore")
                from profanity_check import predict_prob  # the untyped package

            def predict(texts: Sequence[str]) -> list[float]:
                return [float(p) for p in predict_prob(list(texts))]

            _predict = predict
        return _predict


def version() -> str:
    """The installed version of alt-profanity-check, or ``?``."""
    try:
        return metadata.version(PACKAGE)
    except metadata.PackageNotFoundError:
        return "?"


class ProfanityCheck:
    """The real classifier of the default wiring (``bot.app``)."""

    def __init__(self) -> None:
        self._name = f"{PACKAGE} {version()}"

    @property
    def name(self) -> str:
        return self._name

    async def warm(self) -> None:
        """Load the model now (in a worker thread) rather than on the first draft."""
        await asyncio.to_thread(load)

    async def score(self, text: str) -> float:
        [probability] = await asyncio.to_thread(lambda: load()([text]))
        return probability

    def score_many(self, texts: Sequence[str]) -> list[float]:
        """Score many texts at once, blocking (benchmarks and offline evaluation)."""
        return load()(texts)
