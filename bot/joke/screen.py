"""The screen a draft passes before any moderator sees it: blocklists, classifier, moderation.

Four parts, cheapest first: the bot's blocklist (``blocklist.txt``), the scope's own blocked
words (its queue's setting), an offline offensive-language classifier scored against the
scope's threshold, and the provider's moderation endpoint when it has one (asked last, and
only when everything local passed: it is a network call). The result records every score and
which parts fired, for the audit log and the run's page.
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from bot.joke.hygiene import Blocklist, blocked_term, compile_blocklist
from bot.ports import LLM, Classifier

DEFAULT_THRESHOLD = 0.5
BLOCKLIST, SCOPE_WORDS, CLASSIFIER, MODERATION = (
    "blocklist",
    "scope_words",
    "classifier",
    "moderation",
)
PARTS = (BLOCKLIST, SCOPE_WORDS, CLASSIFIER, MODERATION)
# flagged / clean: the provider answered; none: it offers no moderation; skipped: not asked
Moderation = Literal["flagged", "clean", "none", "skipped"]


@dataclass(frozen=True)
class ScreenPolicy:
    """A scope's screen settings, fixed for a run: its extra words and its threshold."""

    blocked_words: tuple[str, ...] = ()
    threshold: float = DEFAULT_THRESHOLD


@dataclass(frozen=True)
class ScreenResult:
    """What each part of the screen said about one draft.

    Attributes:
        blocked: the bot's blocklist entry the draft matched, or "".
        scope_word: the scope's blocked word it matched, or "".
        score: the classifier's probability that it is offensive (None: no classifier).
        threshold: the score from which the classifier part fires.
        classifier: the classifier's name ("" when there is none).
        moderation: the provider's verdict (see :data:`Moderation`).
    """

    blocked: str = ""
    scope_word: str = ""
    score: float | None = None
    threshold: float = DEFAULT_THRESHOLD
    classifier: str = ""
    moderation: Moderation = "skipped"

    @property
    def fired(self) -> tuple[str, ...]:
        """The parts that screened the draft out, in screen order (empty: it passed)."""
        hits = {
            BLOCKLIST: bool(self.blocked),
            SCOPE_WORDS: bool(self.scope_word),
            CLASSIFIER: self.score is not None and self.score >= self.threshold,
            MODERATION: self.moderation == "flagged",
        }
        return tuple(part for part in PARTS if hits[part])

    @property
    def detail(self) -> str:
        """Why the first part that fired did: the matched entry, or the score; else ""."""
        first = self.fired[:1]
        if first == (CLASSIFIER,) and self.score is not None:
            return f"score {self.score:.2f} >= {self.threshold:g}"
        return self.blocked or self.scope_word if first else ""

    def to_json(self) -> dict[str, Any]:
        return {
            "fired": list(self.fired),
            "blocked": self.blocked,
            "scope_word": self.scope_word,
            "score": None if self.score is None else round(self.score, 4),
            "threshold": self.threshold,
            "classifier": self.classifier,
            "moderation": self.moderation,
        }


class Screen:
    """Runs the parts of the screen; ``classifier`` None leaves that part out."""

    def __init__(self, classifier: Classifier | None = None) -> None:
        self.classifier = classifier

    async def local(self, text: str, policy: ScreenPolicy) -> ScreenResult:
        """The offline parts: both blocklists and the classifier (always scored, for the log)."""
        score = None if self.classifier is None else await self.classifier.score(text)
        return ScreenResult(
            blocked=blocked_term(text) or "",
            scope_word=scope_word(text, policy.blocked_words) or "",
            score=score,
            threshold=policy.threshold,
            classifier="" if self.classifier is None else self.classifier.name,
        )

    async def moderated(self, result: ScreenResult, text: str, llm: LLM) -> ScreenResult:
        """``result`` with the provider's moderation verdict on ``text`` added."""
        flagged = await llm.moderate(text)
        verdict: Moderation = "none" if flagged is None else "flagged" if flagged else "clean"
        return ScreenResult(
            result.blocked,
            result.scope_word,
            result.score,
            result.threshold,
            result.classifier,
            verdict,
        )


def scope_word(text: str, words: tuple[str, ...]) -> str | None:
    """The entry of a scope's blocked ``words`` that ``text`` matches, or None."""
    return blocked_term(text, _compiled(words)) if words else None


@lru_cache(maxsize=256)
def _compiled(words: tuple[str, ...]) -> Blocklist:
    return compile_blocklist(words)
