"""Resuming a checkpoint, and the trail that tells ``on_step`` where a resumed async run is."""

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any

from flows._copy import copy_node
from flows.checkpoint import _Suspend, finished, load, node_names, running, suspended
from flows.durable import (
    Decision,
    DurableError,
    Effect,
    Suspended,
    collect_effects,
    drain_effects,
)

StepHook = Callable[[dict[str, Any], list[Effect]], Awaitable[None]]
Step = Callable[[Any, bool], Awaitable[None]]


class Trail:
    """What ``resume_async(on_step=...)`` records: one frame (prep, node, params) per level."""

    __slots__ = ("frames", "hook", "top")

    def __init__(self, hook: StepHook, top: Any) -> None:
        self.hook, self.top = hook, top
        self.frames: list[dict[str, Any]] = []


_trail: ContextVar[Trail | None] = ContextVar("jokebot_trail", default=None)


class _Unrecorded:
    """The context manager behind unrecorded (a class: cheaper than @contextmanager)."""

    def __enter__(self) -> None:
        self.token: Token[Trail | None] = _trail.set(None)

    def __exit__(self, *exc: object) -> None:
        _trail.reset(self.token)


def unrecorded() -> _Unrecorded:
    """Hide the trail inside the block: a nested run or a batch item is not a resumable step."""
    return _Unrecorded()


@contextmanager
def not_durable() -> Iterator[None]:
    """Batch flows run item by item: a Wait inside one has no resumable position."""
    try:
        with unrecorded():
            yield
    except _Suspend as exc:
        raise DurableError("a Wait inside a batch flow cannot suspend the run") from exc


def push_frame(prep: Any) -> list[dict[str, Any]] | None:
    """Open the trail frame of a flow level; returns the frames to pop afterwards, or None."""
    trail = _trail.get()
    if trail is None:
        return None
    trail.frames.append({"prep": prep})
    return trail.frames


def stepper(flow: Any, shared: Any, params: Any) -> Step | None:
    """The on_step call for each node of one walk of ``flow``; None when nothing records."""
    trail = _trail.get()
    if trail is None or not trail.frames:
        return None
    frame = trail.frames[-1]
    names = {id(node): name for name, node in node_names(flow).items()}

    async def step(orig: Any, is_flow: bool) -> None:
        frame["node"], frame["params"] = names[id(orig)], params
        if not is_flow:  # a nested flow's own nodes are the steps
            await trail.hook(running(trail.frames, shared, trail.top), drain_effects())

    return step


def resume(flow: Any, checkpoint: dict[str, Any], decision: Decision | None) -> Any:
    """``Flow.resume``: continue ``checkpoint`` to the end or the next Wait."""
    shared, levels = load(flow, checkpoint, decision)
    with collect_effects() as effects:
        try:
            if levels:
                return _resume_level(flow, shared, levels, 0, decision)
            return flow._run(shared)
        except _Suspend as s:
            return Suspended(suspended(flow, s, shared), list(effects))


async def resume_async(
    flow: Any, checkpoint: dict[str, Any], decision: Decision | None, on_step: StepHook | None
) -> Any:
    """``AsyncFlow.resume_async``: like resume, telling ``on_step`` about every step."""
    shared, levels = load(flow, checkpoint, decision)
    token = _trail.set(Trail(on_step, flow) if on_step else None)
    try:
        with collect_effects() as effects:
            try:
                if levels:
                    last = await _resume_level_async(flow, shared, levels, 0, decision)
                else:
                    last = await flow._run_async(shared)
            except _Suspend as s:
                result = Suspended(suspended(flow, s, shared), list(effects))
                if on_step is not None:
                    await on_step(result.checkpoint, list(effects))
                return result
            if on_step is not None:
                await on_step(finished(flow, shared, last), list(effects))
            return last
    finally:
        _trail.reset(token)


def _decided(flow: Any, shared: Any, node: Any, params: Any, decision: Decision) -> tuple[Any, Any]:
    """Apply ``decision`` to (a copy of) the waiting ``node``; returns (successor, action)."""
    leaf = copy_node(node)
    leaf.set_params(params)
    action = leaf.on_decision(shared, decision)
    return flow.get_next_node(leaf, action), action


def _resume_level(flow: Any, shared: Any, levels: list[Any], k: int, decision: Any) -> Any:
    """Continue ``flow`` at level ``k`` (inner levels first); returns the flow's post result."""
    node, p, prep, _ = levels[k]
    try:
        if k + 1 < len(levels):
            inner = copy_node(node)
            inner.set_params(p)
            try:
                action = _resume_level(inner, shared, levels, k + 1, decision)
            except _Suspend as s:
                s.levels.insert(0, [flow, node, p, None])
                raise
            node = flow.get_next_node(inner, action)
        elif decision is not None:
            node, action = _decided(flow, shared, node, p, decision)
        else:
            action = None
        last = flow._walk(shared, node, p, action)
    except _Suspend as s:
        s.levels[0][3] = prep
        raise
    return flow.post(shared, prep, last)


async def _resume_level_async(
    flow: Any, shared: Any, levels: list[Any], k: int, decision: Any
) -> Any:
    """Like _resume_level for an AsyncFlow, whose inner levels may be sync or async flows."""
    node, p, prep, name = levels[k]
    trail = _trail.get()
    if trail is not None:
        trail.frames.append({"prep": prep, "node": name, "params": p})
    try:
        if k + 1 < len(levels):
            inner = copy_node(node)
            inner.set_params(p)
            try:
                if hasattr(inner, "_walk_async"):  # an AsyncFlow
                    action = await _resume_level_async(inner, shared, levels, k + 1, decision)
                else:
                    action = _resume_level(inner, shared, levels, k + 1, decision)
            except _Suspend as s:
                s.levels.insert(0, [flow, node, p, None])
                raise
            node = flow.get_next_node(inner, action)
        elif decision is not None:
            node, action = _decided(flow, shared, node, p, decision)
        else:
            action = None
        last = await flow._walk_async(shared, node, p, action)
    except _Suspend as s:
        s.levels[0][3] = prep
        raise
    finally:
        if trail is not None:
            trail.frames.pop()
    return await flow.post_async(shared, prep, last)
