"""The one small interface every surface driver implements, in the product's words.

A scenario asks for a joke, looks at the review cards, decides on one, restarts the bot and
reads what was published and who was told what; it never sees a platform payload. Each driver
runs the real adapter against its fake platform and the real core (``tests.support.stack``).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from bot.joke import JokeOptions
from bot.review import ReviewAction
from tests.support.llm import FakeLLM


class Person(StrEnum):
    """Who acts in a scenario; each driver maps them to users of its platform."""

    REQUESTER = "requester"  # asks for jokes
    MODERATOR = "moderator"
    SECOND_MODERATOR = "second moderator"
    OUTSIDER = "outsider"  # neither asked nor may decide


class Capability(StrEnum):
    """What a surface can express beyond asking, reviewing, publishing and restarting.

    A scenario that needs one is run only on the surfaces that have it (see ``needs``).
    """

    # people other than one local moderator who is also the requester: a non-moderator who
    # clicks, a second moderator who races the first
    SEVERAL_PEOPLE = "several people"
    # a decided or replaced card stays on screen and can still be clicked (a chat client that
    # still shows it); the terminal only ever prompts for the draft it shows now
    OLD_CARDS_CLICKABLE = "old cards clickable"
    # a decided card is redrawn with what was published (an edit's text); the terminal prints
    # only the outcome line under the card
    REDRAWS_DECIDED_CARDS = "redraws decided cards"
    # a moderator can delete a card's message (the terminal's printed cards cannot be)
    DELETES_CARDS = "deletes cards"
    # ``/joke status`` (asked like a joke: ``ask("status")``) shows the requester's requests
    ASKS_STATUS = "asks status"


class Unsupported(Exception):
    """An operation this surface cannot express (a scenario should have deselected it)."""


@dataclass(frozen=True)
class Card:
    """A review card as a moderator sees it at the moment of ``Surface.cards()``.

    Attributes:
        draft: the joke text the card shows.
        live: whether it still offers the decision buttons.
        status: the status line of a decided card ("" while pending).
        seen: the card exactly as the platform showed it then (driver-private), so deciding on
            an old snapshot is clicking a client that still shows the old card.
    """

    draft: str
    live: bool
    status: str
    seen: Mapping[str, Any] = field(repr=False, compare=False)


Click = tuple[ReviewAction, Person]  # an immediate decision (approve / reject) and who makes it


class Surface(Protocol):
    """A chat surface with jokebot running on it, driven the way its users would."""

    @property
    def name(self) -> str:
        """``discord``, ``slack`` or ``terminal``."""
        ...

    @property
    def capabilities(self) -> frozenset[Capability]: ...

    @property
    def llm(self) -> FakeLLM:
        """The model behind the bot (its calls; ``fail_next`` takes it down)."""
        ...

    @property
    def options(self) -> JokeOptions:
        """The joke options the bot runs with (review timeout, model retry interval)."""
        ...

    def display(self, person: Person) -> str:
        """How this surface names ``person`` in status lines and answers."""
        ...

    async def ask(self, topic: str, by: Person = Person.REQUESTER) -> str:
        """Request a joke; what the requester is told at once."""
        ...

    def cards(self) -> list[Card]:
        """Every review card posted so far, oldest first."""
        ...

    async def approve(self, card: Card, by: Person = Person.MODERATOR) -> str:
        """Approve; what the clicker is told ("" when only the card changed)."""
        ...

    async def reject(self, card: Card, by: Person = Person.MODERATOR) -> str:
        """Reject without a reason; what the clicker is told."""
        ...

    async def reject_with_reason(
        self, card: Card, reason: str, by: Person = Person.MODERATOR
    ) -> str:
        """Reject giving ``reason``; what the clicker is told."""
        ...

    async def edit(self, card: Card, text: str, by: Person = Person.MODERATOR) -> str:
        """Replace the draft with ``text`` and approve it; what the clicker is told."""
        ...

    async def click_together(self, card: Card, clicks: Sequence[Click]) -> list[str]:
        """Several immediate decisions on one card at the same instant; each clicker's answer."""
        ...

    async def delete(self, card: Card) -> None:
        """A moderator deletes the card's message from the channel."""
        ...

    def public_posts(self) -> list[str]:
        """What was published to the audience, oldest first."""
        ...

    def notices(self) -> list[str]:
        """What the requester was told after the first answer (outcome, model trouble)."""
        ...

    def alerts(self) -> list[str]:
        """Warnings shown to the moderators."""
        ...

    async def drain(self) -> None:
        """Let the bot do all work due now and the surface show it."""
        ...

    async def later(self, seconds: float) -> None:
        """Let ``seconds`` pass on the bot's clock, then drain."""
        ...

    async def restart(self, *, down_for: float = 0.0) -> None:
        """Stop the bot (every in-memory object of core and adapter), keep the database and
        the platform; ``down_for`` seconds pass while it is down; boot it again."""
        ...
