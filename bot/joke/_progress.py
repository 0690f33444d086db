"""DraftRelay: the model's text to the run's watchers as it is written, screened word by word."""

from bot.joke.hygiene import blocked_term
from bot.joke.screen import scope_word
from bot.models import DraftEvent, DraftStage
from bot.ports import DraftProgress


class DraftRelay:
    """One draft's progress: ``started``, then its text a whole word at a time.

    Watchers may see a draft the screen later throws away, so the relay shows only complete
    words, and stops showing at the first blocklisted one or one of the scope's own ``words``
    (nobody watches a slur being typed) or past ``max_len`` characters (the draft would be
    cut there anyway).
    """

    def __init__(
        self, progress: DraftProgress, attempt: int, max_len: int, words: tuple[str, ...] = ()
    ) -> None:
        self._progress, self._attempt, self._max_len = progress, attempt, max_len
        self._words = words
        self._raw = ""
        self._shown = 0
        self.stopped = False

    def start(self) -> None:
        """Announce a new draft (watchers forget the text shown so far)."""
        self._progress.publish(DraftEvent(DraftStage.STARTED, self._attempt))

    def __call__(self, piece: str) -> None:
        """The LLM's ``on_delta``: take ``piece`` and pass on every word it completes."""
        if self.stopped:
            return
        self._raw += piece
        self._show(self._raw[: _last_space(self._raw)])

    def end(self) -> None:
        """The reply is complete: pass on its last word."""
        if not self.stopped:
            self._show(self._raw.rstrip())

    def _show(self, ready: str) -> None:
        blocked = blocked_term(ready) is not None or scope_word(ready, self._words) is not None
        if len(self._raw.strip()) > self._max_len or blocked:
            self.stopped = True
            return
        if len(ready) > self._shown:
            text, self._shown = ready[self._shown :], len(ready)
            self._progress.publish(DraftEvent(DraftStage.DELTA, self._attempt, text))


def _last_space(text: str) -> int:
    """Index just past the last complete word (the last whitespace), 0 if none yet."""
    for i in range(len(text) - 1, -1, -1):
        if text[i].isspace():
            return i
    return 0
