"""PocketFlow-compatible flow engine with a durable pause (stdlib only).

Programs written for PocketFlow run unchanged: ``from pocketflow import ...`` becomes
``from flows import ...``. What we add: ``post`` may return a :class:`~flows.durable.Wait`;
the run then returns a :class:`~flows.durable.Suspended` with a JSON checkpoint, and
``resume``/``resume_async`` continue it (in another process too) at the successor that the
decision selects (the machinery: :mod:`flows.checkpoint`, ``flows._resume``, ``flows._copy``).
Differences from PocketFlow 0.0.3 / HEAD, all deliberate:

* ``AsyncNode`` sets ``self.cur_retry`` (HEAD behaviour; 0.0.3 used a local variable).
* ``AsyncParallelBatchNode`` counts attempts per item (PocketFlow PR #148): concurrent items
  no longer share ``cur_retry``, so each item gets its full ``max_retries``. Read outside
  ``exec_async`` (e.g. in ``post_async``), ``cur_retry`` is the last value set, as upstream.
* Node copies are made by a fast path equivalent to ``copy.copy`` for plain classes.
* ``from flows import *`` exports PocketFlow's names (the 11 classes and the modules asyncio,
  copy, time, warnings) plus the durable vocabulary.

Kept on purpose: ``prep_async`` returning None in an async batch node raises PocketFlow's
``TypeError`` (sync ``BatchNode`` treats None as ``[]``), and ``Flow(start=...)`` is the only
constructor keyword (the PocketFlow tutorial's ``Flow(start_node=...)`` fails on both).
"""

import asyncio
import time
import warnings
from contextvars import ContextVar
from typing import Any

from flows import _resume
from flows._copy import copy_node
from flows._resume import StepHook as StepHook
from flows.checkpoint import Level, _Suspend, waiting_checkpoint
from flows.durable import Decision, Suspended, Wait, collect_effects


class BaseNode:
    """A step with ``prep`` (read shared), ``exec`` (compute) and ``post`` (write, route)."""

    node_id: str | None = None  # stable name within its flow; derived from the class if None

    def __init__(self) -> None:
        self.params: dict[str, Any] = {}
        self.successors: dict[Any, BaseNode] = {}

    def set_params(self, params: Any) -> None:
        self.params = params

    def next(self, node: Any, action: Any = "default") -> Any:
        """Wire ``node`` as the successor for ``action``; returns ``node`` for chaining."""
        if action in self.successors:
            warnings.warn(f"Overwriting successor for action '{action}'", stacklevel=1)
        self.successors[action] = node
        return node

    def prep(self, shared: Any) -> Any:
        pass

    def exec(self, prep_res: Any) -> Any:
        pass

    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        pass

    def on_decision(self, shared: Any, decision: Decision) -> Any:
        """Apply the decision that resumes this node's Wait; returns the action to follow."""
        if isinstance(shared, dict):
            shared["decision"] = decision.to_json()
        return decision.action

    def _exec(self, prep_res: Any) -> Any:
        return self.exec(prep_res)

    def _run(self, shared: Any) -> Any:
        prep_res = self.prep(shared)
        exec_res = self._exec(prep_res)
        return self.post(shared, prep_res, exec_res)

    def run(self, shared: Any) -> Any:
        """Run this node alone (successors are not followed)."""
        if self.successors:
            warnings.warn("Node won't run successors. Use Flow.", stacklevel=1)
        return self._run(shared)

    def __rshift__(self, other: Any) -> Any:
        return self.next(other)

    def __sub__(self, action: Any) -> "_ConditionalTransition":
        if isinstance(action, str):
            return _ConditionalTransition(self, action)
        raise TypeError("Action must be a string")


class _ConditionalTransition:
    def __init__(self, src: BaseNode, action: str) -> None:
        self.src, self.action = src, action

    def __rshift__(self, tgt: Any) -> Any:
        return self.src.next(tgt, self.action)


class Node(BaseNode):
    """A node whose ``exec`` is retried ``max_retries`` times in all, ``wait`` s apart."""

    def __init__(self, max_retries: int = 1, wait: float = 0) -> None:
        super().__init__()
        self.max_retries, self.wait = max_retries, wait

    def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
        raise exc

    def _exec(self, prep_res: Any) -> Any:
        for self.cur_retry in range(self.max_retries):  # noqa: B020  # PocketFlow exposes it
            try:
                return self.exec(prep_res)
            except Exception as e:
                if self.cur_retry == self.max_retries - 1:
                    return self.exec_fallback(prep_res, e)
                if self.wait > 0:
                    time.sleep(self.wait)
        return None


class BatchNode(Node):
    """Runs ``exec`` (with retries) once per item that ``prep`` returns."""

    def _exec(self, items: Any) -> Any:
        return [super(BatchNode, self)._exec(i) for i in (items or [])]


class Flow(BaseNode):
    """Runs nodes from ``start_node``, following the action each ``post`` returns."""

    flow_id: str | None = None  # identity recorded in checkpoints; the class name if None
    flow_version: int = 1  # checkpoints from a newer version are refused

    def __init__(self, start: Any = None) -> None:
        super().__init__()
        self.start_node = start

    def start(self, start: Any) -> Any:
        self.start_node = start
        return start

    def get_next_node(self, curr: BaseNode, action: Any) -> Any:
        nxt = curr.successors.get(action or "default")
        if not nxt and curr.successors:
            keys = list(curr.successors)
            warnings.warn(f"Flow ends: '{action}' not found in {keys}", stacklevel=1)
        return nxt

    def _orch(self, shared: Any, params: Any = None) -> Any:
        return self._walk(shared, self.start_node, params or {**self.params}, None)

    def _walk(self, shared: Any, node: Any, params: Any, last: Any) -> Any:
        """Run copies of the nodes from ``node`` on; a Wait unwinds as _Suspend with our Level."""
        curr = copy_node(node)
        while curr:
            curr.set_params(params)
            try:
                last = curr._run(shared)
            except _Suspend as s:  # from a nested flow: our level goes above its levels
                s.levels.insert(0, Level(self, node, params))
                raise
            if isinstance(last, Wait):
                raise _Suspend(last, Level(self, node, params))
            node = self.get_next_node(curr, last)
            curr = copy_node(node)
        return last

    def _run(self, shared: Any) -> Any:
        prep = self.prep(shared)
        try:
            last = self._orch(shared)
        except _Suspend as s:
            s.levels[0].prep = prep
            raise
        return self.post(shared, prep, last)

    def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        return exec_res

    def run(self, shared: Any) -> Any:
        """Run the flow; returns the last action, or Suspended if a node returned a Wait."""
        with collect_effects() as effects:
            try:
                return super().run(shared)
            except _Suspend as s:
                return Suspended(waiting_checkpoint(self, s, shared), list(effects))

    def resume(self, checkpoint: dict[str, Any], decision: Decision | None = None) -> Any:
        """Continue a checkpoint (after a JSON round trip, in any process)."""
        return _resume.resume(self, checkpoint, decision)


class BatchFlow(Flow):
    """Runs the whole flow once per params dict that ``prep`` returns."""

    def _run(self, shared: Any) -> Any:
        pr = self.prep(shared) or []
        with _resume.not_durable():
            for bp in pr:
                self._orch(shared, {**self.params, **bp})
        return self.post(shared, pr, None)


class AsyncNode(Node):
    """A node with ``prep_async``/``exec_async``/``post_async``; run it with ``run_async``."""

    async def prep_async(self, shared: Any) -> Any:
        pass

    async def exec_async(self, prep_res: Any) -> Any:
        pass

    async def exec_fallback_async(self, prep_res: Any, exc: Exception) -> Any:
        raise exc

    async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        pass

    async def _exec(self, prep_res: Any) -> Any:
        for self.cur_retry in range(self.max_retries):  # noqa: B020  # PocketFlow exposes it
            try:
                return await self.exec_async(prep_res)
            except Exception as e:
                if self.cur_retry == self.max_retries - 1:
                    return await self.exec_fallback_async(prep_res, e)
                if self.wait > 0:
                    await asyncio.sleep(self.wait)
        return None

    async def run_async(self, shared: Any) -> Any:
        if self.successors:
            warnings.warn("Node won't run successors. Use AsyncFlow.", stacklevel=1)
        return await self._run_async(shared)

    async def _run_async(self, shared: Any) -> Any:
        prep_res = await self.prep_async(shared)
        exec_res = await self._exec(prep_res)
        return await self.post_async(shared, prep_res, exec_res)

    def _run(self, shared: Any) -> Any:
        raise RuntimeError("Use run_async.")


class AsyncBatchNode(AsyncNode, BatchNode):
    """Async node whose ``exec_async`` runs once per item, one after another."""

    async def _exec(self, items: Any) -> Any:
        return [await super(AsyncBatchNode, self)._exec(i) for i in items]


_item_retry: ContextVar[tuple[Any, int] | None] = ContextVar("jokebot_item_retry", default=None)


class AsyncParallelBatchNode(AsyncNode, BatchNode):
    """Async node whose ``exec_async`` runs for all items at once (``asyncio.gather``)."""

    @property
    def cur_retry(self) -> int:
        """The attempt number of the item whose ``exec_async`` is running (per task)."""
        mine = _item_retry.get()
        if mine is not None and mine[0] is self:
            return mine[1]
        try:  # outside an item (e.g. in post_async): the last value set, as in PocketFlow
            return int(self.__dict__["cur_retry"])
        except KeyError:
            raise AttributeError("cur_retry") from None

    @cur_retry.setter
    def cur_retry(self, value: int) -> None:
        _item_retry.set((self, value))
        self.__dict__["cur_retry"] = value

    async def _exec(self, items: Any) -> Any:
        # gather wraps each coroutine in a task with its own context: one counter per item
        return await asyncio.gather(*(super(AsyncParallelBatchNode, self)._exec(i) for i in items))


class AsyncFlow(Flow, AsyncNode):
    """A flow that awaits async nodes and runs sync nodes inline."""

    async def _orch_async(self, shared: Any, params: Any = None) -> Any:
        return await self._walk_async(shared, self.start_node, params or {**self.params}, None)

    async def _walk_async(self, shared: Any, node: Any, params: Any, last: Any) -> Any:
        step = _resume.stepper(shared, params)  # None unless resume_async(on_step=...) runs
        curr = copy_node(node)
        while curr:
            curr.set_params(params)
            if step is not None:
                await step(node, isinstance(curr, Flow))
            try:
                if isinstance(curr, AsyncNode):
                    last = await curr._run_async(shared)
                else:
                    last = curr._run(shared)
            except _Suspend as s:  # from a nested flow: our level goes above its levels
                s.levels.insert(0, Level(self, node, params))
                raise
            if isinstance(last, Wait):
                raise _Suspend(last, Level(self, node, params))
            node = self.get_next_node(curr, last)
            curr = copy_node(node)
        return last

    async def _run_async(self, shared: Any) -> Any:
        prep = await self.prep_async(shared)
        trail_levels = _resume.push_level(self, prep)
        try:
            last = await self._orch_async(shared)
        except _Suspend as s:
            s.levels[0].prep = prep
            raise
        finally:
            if trail_levels is not None:
                trail_levels.pop()
        return await self.post_async(shared, prep, last)

    async def post_async(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
        return exec_res

    async def run_async(self, shared: Any) -> Any:
        """Run the flow; returns the last action, or Suspended if a node returned a Wait."""
        with _resume.RunScope() as effects:  # no trail: a nested run is not a resumable step
            try:
                return await super().run_async(shared)
            except _Suspend as s:
                return Suspended(waiting_checkpoint(self, s, shared), list(effects))

    async def resume_async(
        self,
        checkpoint: dict[str, Any],
        decision: Decision | None = None,
        *,
        on_step: StepHook | None = None,
    ) -> Any:
        """Continue a checkpoint; ``on_step`` gets a checkpoint before every node and at the end.

        The checkpoint handed to ``on_step`` is live: serialise it during the call.
        """
        return await _resume.resume_async(self, checkpoint, decision, on_step)


class AsyncBatchFlow(AsyncFlow, BatchFlow):
    """Runs the async flow once per params dict, one after another."""

    async def _run_async(self, shared: Any) -> Any:
        pr = await self.prep_async(shared) or []
        with _resume.not_durable():
            for bp in pr:
                await self._orch_async(shared, {**self.params, **bp})
        return await self.post_async(shared, pr, None)


class AsyncParallelBatchFlow(AsyncFlow, BatchFlow):
    """Runs the async flow once per params dict, all at once."""

    async def _run_async(self, shared: Any) -> Any:
        pr = await self.prep_async(shared) or []
        with _resume.not_durable():
            await asyncio.gather(*(self._orch_async(shared, {**self.params, **bp}) for bp in pr))
        return await self.post_async(shared, pr, None)
