"""The vocabulary of a durable pause: Wait, Decision, Effect, Suspended and their errors.

Stdlib only. A node's ``post`` may return a :class:`Wait` instead of an action; the flow then
stops and returns a :class:`Suspended` whose ``checkpoint`` is plain JSON. Nodes emit external
effects with :func:`emit`; the durable runtime stores them in its outbox in the same
transaction as the step that emitted them.
"""

import json
import math
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

CHECKPOINT_FORMAT = 1


class DurableError(Exception):
    """Base class of the errors raised by suspend and resume."""


class FlowChanged(DurableError):
    """A checkpoint names a flow or node that the current flow no longer has."""


class DecisionNotAllowed(DurableError, ValueError):
    """A decision whose action the waiting node did not allow."""


class NotSerializable(DurableError, TypeError):
    """The shared store (or a nested flow's prep result) is not JSON-serialisable."""


@dataclass(frozen=True, init=False)  # __init__ below: the same signature, built faster
class Wait:
    """What a suspended run waits for: returned by ``post`` instead of an action.

    Attributes:
        kind: what sort of decision this is, e.g. ``"review"``.
        allowed: the decision actions that may resume the run.
        payload: JSON data for whoever decides (e.g. the draft shown on a review card).
        timeout_s: seconds until the runtime decides ``on_timeout`` by itself; None = never.
        on_timeout: the action decided on expiry; must be one of ``allowed``.
        needs: the decision data each action requires, e.g. ``{"edit": ("text",)}``: a
            decision for that action without a non-blank value for each key is refused
            before it is recorded (see :meth:`missing`).
    """

    kind: str
    allowed: tuple[str, ...]
    payload: Mapping[str, Any] = field(default_factory=dict)
    timeout_s: float | None = None
    on_timeout: str = "timeout"
    needs: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def __init__(
        self,
        kind: str,
        allowed: tuple[str, ...],
        payload: Mapping[str, Any] | None = None,
        timeout_s: float | None = None,
        on_timeout: str = "timeout",
        needs: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        if not allowed:
            raise ValueError("a Wait needs at least one allowed decision")
        if timeout_s is not None and on_timeout not in allowed:
            raise ValueError(f"on_timeout {on_timeout!r} is not in allowed {allowed!r}")
        if needs and (unknown := set(needs) - set(allowed)):
            raise ValueError(f"needs names actions that are not allowed: {sorted(unknown)!r}")
        vars(self).update(  # one update: a frozen dataclass's __init__ pays a call per field
            kind=kind,
            allowed=allowed,
            payload={} if payload is None else payload,
            timeout_s=timeout_s,
            on_timeout=on_timeout,
            needs={} if needs is None else needs,
        )

    def missing(self, action: str, data: Mapping[str, Any]) -> tuple[str, ...]:
        """The data keys ``action`` needs that ``data`` lacks or leaves blank."""
        return tuple(k for k in self.needs.get(action, ()) if not str(data.get(k) or "").strip())

    def to_json(self) -> dict[str, Any]:
        """The Wait as JSON; ``needs`` appears only when some action needs data."""
        data: dict[str, Any] = {
            "kind": self.kind,
            "allowed": list(self.allowed),
            "payload": dict(self.payload),
            "timeout_s": self.timeout_s,
            "on_timeout": self.on_timeout,
        }
        if self.needs:  # most waits need none: keep their checkpoints as they were before needs
            data["needs"] = {action: list(keys) for action, keys in self.needs.items()}
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Wait":
        return cls(
            kind=data["kind"],
            allowed=tuple(data["allowed"]),
            payload=data.get("payload", {}),
            timeout_s=data.get("timeout_s"),
            on_timeout=data.get("on_timeout", "timeout"),
            needs={action: tuple(keys) for action, keys in data.get("needs", {}).items()},
        )


@dataclass(frozen=True, init=False)
class Decision:
    """A human's (or a timer's) answer to a Wait: the action plus optional data."""

    action: str
    data: Mapping[str, Any] = field(default_factory=dict)
    actor: str = ""

    def __init__(self, action: str, data: Mapping[str, Any] | None = None, actor: str = "") -> None:
        vars(self).update(action=action, data={} if data is None else data, actor=actor)

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "data": dict(self.data), "actor": self.actor}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Decision":
        return cls(data["action"], data.get("data", {}), data.get("actor", ""))


@dataclass(frozen=True, init=False)
class Effect:
    """An external action a node asks for (publish, notify, ...); delivered via the outbox."""

    kind: str
    payload: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, kind: str, payload: Mapping[str, Any] | None = None) -> None:
        vars(self).update(kind=kind, payload={} if payload is None else payload)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "payload": dict(self.payload)}


@dataclass
class Suspended:
    """The result of a run that stopped at a Wait. ``checkpoint`` is plain JSON."""

    checkpoint: dict[str, Any]
    effects: list[Effect] = field(default_factory=list)

    @property
    def wait(self) -> Wait:
        return Wait.from_json(self.checkpoint["wait"])


_effects: ContextVar[list[Effect] | None] = ContextVar("jokebot_effects", default=None)


def emit(effect: Effect) -> None:
    """Record an external effect of the current step (call it from ``post``)."""
    sink = _effects.get()
    if sink is None:
        raise RuntimeError("emit() called outside a flow run")
    sink.append(effect)


def collect_effects() -> "_Collector":
    """Collect the effects emitted inside the block (nested collectors share the outer one)."""
    return _Collector()


class _Collector:
    """The context manager behind collect_effects (a class: cheaper than @contextmanager)."""

    def __enter__(self) -> list[Effect]:
        sink = _effects.get()
        self.token = None
        if sink is None:
            sink = []
            self.token = _effects.set(sink)
        return sink

    def __exit__(self, *exc: object) -> None:
        if self.token is not None:
            _effects.reset(self.token)


def drain_effects() -> list[Effect]:
    """Take the effects collected so far in the current run (empty outside a run)."""
    sink = _effects.get()
    if not sink:
        return []
    taken = list(sink)
    sink.clear()
    return taken


def check_json(value: Any, where: str = "shared") -> None:
    """Raise NotSerializable naming the first key path whose value is not plain JSON."""
    if is_plain_json(value):  # the common case, in about a third of the time json.dumps takes
        return
    try:
        json.dumps(value, allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        raise NotSerializable(f"{_offender(value, where)} is not JSON-serialisable: {exc}") from exc


_LEAVES = frozenset({str, int, bool, type(None)})


def is_plain_json(value: Any, depth: int = 0) -> bool:
    """True for dicts with str keys, lists, str, int, bool, None and finite floats, exactly.

    False is not a verdict: json.dumps then decides (it also takes tuples, subclasses...).
    """
    kind = type(value)
    if kind in _LEAVES:
        return True
    if depth > 100:  # deep or circular: let json.dumps decide
        return False
    if kind is dict:  # leaves are checked inline: a call per string would double the cost
        for k, v in value.items():
            if type(k) is not str or (type(v) not in _LEAVES and not is_plain_json(v, depth + 1)):
                return False
        return True
    if kind is list:
        for v in value:  # noqa: SIM110  # a generator in all() doubles the cost
            if type(v) not in _LEAVES and not is_plain_json(v, depth + 1):
                return False
        return True
    return kind is float and math.isfinite(value)


def _offender(value: Any, where: str) -> str:
    """Find the deepest path under ``where`` whose value fails json.dumps."""
    items: list[tuple[Any, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list | tuple):
        items = list(enumerate(value))
    for key, item in items:
        try:
            if not isinstance(key, str | int | float | bool) and key is not None:
                return f"{where}[{key!r}] (key type {type(key).__name__})"
            json.dumps(item, allow_nan=False)
        except (TypeError, ValueError):
            return _offender(item, f"{where}[{key!r}]")
    return f"{where} ({type(value).__name__})"
