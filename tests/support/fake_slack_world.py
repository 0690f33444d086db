"""FakeSlack's state: channels, DMs, messages, ephemerals, triggers, and the fake's clock.

Channel ids follow Slack: ``C…`` a channel (public, or private when ``is_private``), ``G…`` a
legacy private channel, ``D…`` a direct message with one user. Message ``ts`` values are the
fake's clock in microseconds, unique and increasing, as Slack's are.
"""

import base64
import binascii
import itertools
import random
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

TEAM = "T0TEAM"
BOT_USER = "U0BOT"
BOT_ID = "B0BOT"
OTHER_USER = "U0CHATTY"  # who writes the chatter of a busy channel
TRIGGER_TTL_S = 3.0  # a trigger_id can open one modal within 3 s
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")


class Clock(Protocol):
    """Anything with ``now()`` in epoch seconds (tests.support.clock.FakeClock, SystemClock)."""

    def now(self) -> float: ...


@dataclass
class Message:
    """A persistent message in a channel (what history returns and ``chat.update`` edits)."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None
    user: str = BOT_USER

    @property
    def by_bot(self) -> bool:
        return self.user == BOT_USER


@dataclass(frozen=True)
class Ephemeral:
    """An ephemeral message: shown once to one user, never stored in the channel."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    ts: str


@dataclass
class Channel:
    """A conversation: whether the bot is in it, who else is, its messages.

    ``members`` None means every user of the workspace (a #general-like channel).
    """

    name: str
    is_member: bool = True
    is_private: bool = False
    is_im: bool = False
    user: str = ""  # the other person of a DM
    members: set[str] | None = None
    team: str = TEAM  # the workspace it belongs to; other workspaces' tokens cannot see it
    messages: list[Message] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "im" if self.is_im else "private" if self.is_private else "public"

    def has(self, user: str) -> bool:
        return self.members is None or user in self.members


@dataclass
class Trigger:
    """A trigger_id Slack issued with an interaction."""

    issued_at: float
    used: bool = False


def is_user_id(value: str) -> bool:
    """True for a user id (``U…``/``W…``)."""
    return _USER_ID.fullmatch(value) is not None


class World:
    """The workspace the fake serves; the Web API handlers (``fake_slack_api``) act on it."""

    def __init__(
        self,
        channels: dict[str, str] | None,
        clock: Clock,
        *,
        usergroups: dict[str, list[str]] | None = None,
        seed: int = 0,
    ) -> None:
        names = channels if channels is not None else {"CMOD": "mods", "CPUB": "jokes"}
        self.channels = {
            cid: Channel(name, is_private=cid.startswith("G")) for cid, name in names.items()
        }
        self.usergroups = {k: list(v) for k, v in (usergroups or {}).items()}
        self.clock = clock
        self.ephemerals: list[Ephemeral] = []
        self.triggers: dict[str, Trigger] = {}
        self.busy: dict[str, tuple[int, int]] = {}  # channel -> chatter after each bot post
        self.rng = random.Random(seed)
        self._last_us = 0
        self._dms: dict[str, str] = {}
        self._ids = itertools.count(1)

    # -- ids and time ------------------------------------------------------------------

    def new_ts(self) -> str:
        """A message ts: the clock in microseconds, strictly increasing."""
        self._last_us = max(int(self.clock.now() * 1_000_000), self._last_us + 1)
        return f"{self._last_us // 1_000_000}.{self._last_us % 1_000_000:06d}"

    def issue_trigger(self, trigger_id: str | None = None) -> str:
        """Slack issues a trigger_id with every interaction it delivers; this one, now."""
        trigger = trigger_id or f"{next(self._ids)}.4744562912.{next(self._ids):032x}"
        self.triggers.setdefault(trigger, Trigger(self.clock.now()))
        return trigger

    def dm(self, user: str, team: str = TEAM) -> str:
        """The app's DM channel with ``user`` (created on first use), a ``D…`` id."""
        if user not in self._dms:
            cid = f"D{next(self._ids):08d}"
            self._dms[user] = cid
            self.channels[cid] = Channel(
                f"dm-{user}", is_im=True, user=user, members={user}, team=team
            )
        return self._dms[user]

    def dm_messages(self, user: str) -> list[Message]:
        """Messages the app sent to ``user`` by DM, oldest first."""
        cid = self._dms.get(user)
        return self.channels[cid].messages if cid else []

    # -- messages ----------------------------------------------------------------------

    def add(self, cid: str, text: str, blocks: list[dict[str, Any]], metadata: Any) -> Message:
        """Store a bot message; a busy channel then fills with other people's chatter."""
        message = Message(cid, self.new_ts(), text, blocks, metadata)
        channel = self.channels[cid]
        channel.messages.append(message)
        if cid in self.busy:
            low, high = self.busy[cid]
            self.chatter(cid, self.rng.randint(low, high))
        return message

    def chatter(self, cid: str, n: int) -> None:
        """``n`` messages from someone else, now."""
        for i in range(n):
            self.channels[cid].messages.append(
                Message(cid, self.new_ts(), f"chatter {i}", [], None, OTHER_USER)
            )


def micros(ts: str) -> int:
    """A ts (``"1700000000.000100"``, ``"1700000000"``) in microseconds; ValueError if malformed."""
    try:
        return int(Decimal(ts) * 1_000_000)
    except (InvalidOperation, ValueError) as exc:
        raise ValueError(ts) from exc


def encode_cursor(us: int) -> str:
    """Slack's cursors are opaque base64; theirs read ``next_ts:<microseconds>``."""
    return base64.b64encode(f"next_ts:{us}".encode()).decode()


def decode_cursor(cursor: str) -> int:
    """The microseconds a cursor continues below; ValueError for one we never issued."""
    try:
        text = base64.b64decode(cursor, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(cursor) from exc
    if not text.startswith("next_ts:") or not text[8:].isdigit():
        raise ValueError(cursor)
    return int(text[8:])
