"""Resuming a checkpoint, and the trail that tells ``on_step`` where a resumed async run is."""

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import TYPE_CHECKING, Any

from flows._copy import copy_node
from flows.checkpoint import (
    Level,
    _Suspend,
    finished_checkpoint,
    load_checkpoint,
    running_checkpoint,
    waiting_checkpoint,
)
from flows.durable import (
    Decision,
    DurableError,
    Effect,
    Suspended,
    _effects,  # RunScope opens the effect collector with the trail: one context, not two
    collect_effects,
    drain_effects,
)

if TYPE_CHECKING:
    from flows.engine import AsyncFlow, Flow

StepHook = Callable[[dict[str, Any], list[Effect]], Awaitable[None]]
Step = Callable[[Any, bool], Awaitable[None]]


class Trail:
    """What ``resume_async(on_step=...)`` records: the run's current Level in each flow."""

    __slots__ = ("hook", "levels", "top")

    def __init__(self, hook: StepHook, top: "Flow") -> None:
        self.hook, self.top = hook, top
        self.levels: list[Level] = []


_trail: ContextVar[Trail | None] = ContextVar("jokebot_trail", default=None)


class RunScope:
    """The context of one run: collects its effects and sets the trail ``on_step`` reads.

    A run inside another one adds its effects to the outer run's; its trail is ``trail``, so
    None hides an outer trail (a nested run is not a step of the resumed one).
    """

    __slots__ = ("effects_token", "trail", "trail_token")

    def __init__(self, trail: Trail | None = None) -> None:
        self.trail = trail

    def __enter__(self) -> list[Effect]:
        trail = self.trail
        self.trail_token = None if trail is None and _trail.get() is None else _trail.set(trail)
        sink = _effects.get()
        self.effects_token = None
        if sink is None:
            sink = []
            self.effects_token = _effects.set(sink)
        return sink

    def __exit__(self, *exc: object) -> None:
        if self.effects_token is not None:
            _effects.reset(self.effects_token)
        if self.trail_token is not None:
            _trail.reset(self.trail_token)


class _Unrecorded:
    """The context manager behind unrecorded (a class: cheaper than a generator's)."""

    def __enter__(self) -> None:
        self.token: Token[Trail | None] = _trail.set(None)

    def __exit__(self, *exc: object) -> None:
        _trail.reset(self.token)


def unrecorded() -> _Unrecorded:
    """Hide the trail inside the block: a batch item is not a resumable step."""
    return _Unrecorded()


@contextmanager
def not_durable() -> Iterator[None]:
    """Batch flows run item by item: a Wait inside one has no resumable position."""
    try:
        with unrecorded():
            yield
    except _Suspend as exc:
        raise DurableError("a Wait inside a batch flow cannot suspend the run") from exc


def push_level(flow: "Flow", prep: Any) -> list[Level] | None:
    """Open the trail level of ``flow``; returns the levels to pop afterwards, or None."""
    trail = _trail.get()
    if trail is None:
        return None
    trail.levels.append(Level(flow, flow.start_node, None, prep))  # node: set by each step
    return trail.levels


def stepper(shared: Any, params: Any) -> Step | None:
    """The on_step call for each node of one walk of a flow; None when nothing records."""
    trail = _trail.get()
    if trail is None or not trail.levels:
        return None
    level = trail.levels[-1]

    async def step(node: Any, is_flow: bool) -> None:
        level.node, level.params = node, params
        if not is_flow:  # a nested flow's own nodes are the steps
            checkpoint = running_checkpoint(trail.top, trail.levels, shared)
            await trail.hook(checkpoint, drain_effects())

    return step


def resume(flow: "Flow", checkpoint: dict[str, Any], decision: Decision | None) -> Any:
    """``Flow.resume``: continue ``checkpoint`` to the end or the next Wait."""
    shared, levels = load_checkpoint(flow, checkpoint, decision)
    with collect_effects() as effects:
        try:
            if levels:
                return _resume_level(flow, shared, levels, 0, decision)
            return flow._run(shared)
        except _Suspend as s:
            return Suspended(waiting_checkpoint(flow, s, shared), list(effects))


async def resume_async(
    flow: "AsyncFlow",
    checkpoint: dict[str, Any],
    decision: Decision | None,
    on_step: StepHook | None,
) -> Any:
    """``AsyncFlow.resume_async``: like resume, telling ``on_step`` about every step."""
    shared, levels = load_checkpoint(flow, checkpoint, decision)
    with RunScope(Trail(on_step, flow) if on_step else None) as effects:
        try:
            if levels:
                last = await _resume_level_async(flow, shared, levels, 0, decision)
            else:
                last = await flow._run_async(shared)
        except _Suspend as s:
            result = Suspended(waiting_checkpoint(flow, s, shared), list(effects))
            if on_step is not None:
                await on_step(result.checkpoint, list(effects))
            return result
        if on_step is not None:
            await on_step(finished_checkpoint(flow, shared, last), list(effects))
        return last


def _decided(flow: "Flow", shared: Any, level: Level, decision: Decision) -> tuple[Any, Any]:
    """Apply ``decision`` to (a copy of) the waiting node; returns (successor, action)."""
    leaf = copy_node(level.node)
    leaf.set_params(level.params)
    action = leaf.on_decision(shared, decision)
    return flow.get_next_node(leaf, action), action


def _resume_level(
    flow: "Flow", shared: Any, levels: list[Level], k: int, decision: Decision | None
) -> Any:
    """Continue ``flow`` at level ``k`` (inner levels first); returns the flow's post result."""
    level = levels[k]
    node, params = level.node, level.params
    try:
        if k + 1 < len(levels):
            inner = copy_node(node)
            inner.set_params(params)
            try:
                action = _resume_level(inner, shared, levels, k + 1, decision)
            except _Suspend as s:
                s.levels.insert(0, Level(flow, node, params))
                raise
            node = flow.get_next_node(inner, action)
        elif decision is not None:
            node, action = _decided(flow, shared, level, decision)
        else:
            action = None
        last = flow._walk(shared, node, params, action)
    except _Suspend as s:
        s.levels[0].prep = level.prep
        raise
    return flow.post(shared, level.prep, last)


async def _resume_level_async(
    flow: "AsyncFlow", shared: Any, levels: list[Level], k: int, decision: Decision | None
) -> Any:
    """Like _resume_level for an AsyncFlow, whose inner levels may be sync or async flows."""
    level = levels[k]
    node, params = level.node, level.params
    trail = _trail.get()
    if trail is not None:
        trail.levels.append(Level(flow, node, params, level.prep))
    try:
        if k + 1 < len(levels):
            inner = copy_node(node)
            inner.set_params(params)
            try:
                if hasattr(inner, "_walk_async"):  # an AsyncFlow
                    action = await _resume_level_async(inner, shared, levels, k + 1, decision)
                else:
                    action = _resume_level(inner, shared, levels, k + 1, decision)
            except _Suspend as s:
                s.levels.insert(0, Level(flow, node, params))
                raise
            node = flow.get_next_node(inner, action)
        elif decision is not None:
            node, action = _decided(flow, shared, level, decision)
        else:
            action = None
        last = await flow._walk_async(shared, node, params, action)
    except _Suspend as s:
        s.levels[0].prep = level.prep
        raise
    finally:
        if trail is not None:
            trail.levels.pop()
    return await flow.post_async(shared, level.prep, last)
