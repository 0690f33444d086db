"""DraftRelay: what watchers are shown of a draft while the model writes it."""

from bot.joke._progress import DraftRelay
from bot.models import DraftEvent, DraftStage


class Recorder:
    def __init__(self) -> None:
        self.events: list[DraftEvent] = []

    def publish(self, event: DraftEvent) -> None:
        self.events.append(event)

    @property
    def shown(self) -> str:
        return "".join(e.text for e in self.events if e.stage == DraftStage.DELTA)


def relay_of(*pieces: str, max_len: int = 300, words: tuple[str, ...] = ()) -> Recorder:
    recorder = Recorder()
    relay = DraftRelay(recorder, 2, max_len, words)
    relay.start()
    for piece in pieces:
        relay(piece)
    relay.end()
    return recorder


def test_relay_starts_then_passes_whole_words_only() -> None:
    recorder = Recorder()
    relay = DraftRelay(recorder, 2, 300)
    relay.start()

    relay("Why d")
    relay("id the ca")
    partial = recorder.shown
    relay("t nap?")
    relay.end()

    assert recorder.events[0] == DraftEvent(DraftStage.STARTED, 2)
    assert partial == "Why did the"  # "ca" is not a word yet
    assert recorder.shown == "Why did the cat nap?"
    assert all(e.attempt == 2 for e in recorder.events)


def test_relay_stops_before_a_blocklisted_word() -> None:
    recorder = relay_of("Why", " did", " the", " na", "zi", " cross", " the road?")

    assert recorder.shown == "Why did the"
    assert "nazi" not in recorder.shown.lower()


def test_relay_stops_past_the_length_cap() -> None:
    recorder = relay_of(*(" word" for _ in range(20)), max_len=30)

    assert len(recorder.shown) <= 30
    assert recorder.shown.strip().startswith("word word")


def test_relay_stops_before_one_of_the_scopes_own_words() -> None:
    recorder = relay_of("Why", " did", " the", " broccoli", " blush?", words=("broccoli",))

    assert recorder.shown == "Why did the"
