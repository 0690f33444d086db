"""FakeClassifier: a scripted bot.ports.Classifier that records what it scored."""


class FakeClassifier:
    """Scores ``scores[needle]`` for a text containing ``needle`` (the highest wins), else
    ``default``; every scored text is kept in ``scored``.
    """

    def __init__(self, scores: dict[str, float] | None = None, *, default: float = 0.01) -> None:
        self._scores = scores or {}
        self._default = default
        self.scored: list[str] = []

    @property
    def name(self) -> str:
        return "fake-classifier"

    async def score(self, text: str) -> float:
        self.scored.append(text)
        hits = [s for needle, s in self._scores.items() if needle in text]
        return max(hits, default=self._default)
