"""Differential test: Hypothesis-generated flows run on `flows` and on `pocketflow` 0.0.3.

Each generated graph is built twice, once from each implementation's classes, and run on a
fresh shared store. The returned value (or the exception's type and text), the shared store
(a trace of every hook call, visit and attempt counters), the warnings raised while wiring
and while running must be identical. Graphs have loops, branches on unmapped and falsy
actions, duplicate wiring, retries, fallbacks, failures in prep/exec/post, nested flows,
batch nodes and batch flows, and (in async mode) every async class mixed with sync nodes.

Not compared: ``self.cur_retry`` inside async nodes (0.0.3 does not set it; we follow HEAD,
see test_engine_compat.py).
"""

import asyncio
import copy
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pocketflow
from hypothesis import HealthCheck, given, settings, strategies as st

import flows

LIMIT = 12  # post() steps per run before a node returns an unmapped action, ending loops
ACTIONS: list[str | None] = [None, "", "default", "a", "b", "zz"]
EDGE_ACTIONS = ["default", "a", "b"]
Impl = Any  # the module under test: flows or pocketflow


@dataclass(frozen=True)
class NodeSpec:
    """One generated node: its class, behaviour and outgoing edges."""

    name: str
    kind: str  # node | batch | flow | batchflow
    variant: int  # which class of that kind (see CLASSES)
    actions: tuple[str | None, ...]  # post returns actions[(visit - 1) % len]
    fails: int  # exec raises on the first `fails` attempts of each item
    max_retries: int
    fallback: bool  # exec_fallback returns a value (True) or re-raises (False)
    raise_in: str  # "" | "prep" | "post": raise on visit `raise_visit`
    raise_visit: int
    items: int  # batch size; -1 means prep returns None
    edges: tuple[tuple[str, int], ...]  # (action, target index); duplicates re-wire
    wiring: int  # 0: next(), 1: >> / - "a" >>
    sub: "GraphSpec | None"


@dataclass(frozen=True)
class GraphSpec:
    """A generated flow: its class, nodes and start node."""

    kind: str  # flow | batchflow
    variant: int
    nodes: tuple[NodeSpec, ...]
    start: int


def _classes(m: Impl, asynchronous: bool) -> dict[str, list[Any]]:
    if asynchronous:
        return {
            "node": [m.AsyncNode, m.Node],
            "batch": [m.AsyncBatchNode, m.AsyncParallelBatchNode, m.BatchNode],
            "flow": [m.AsyncFlow, m.Flow],
            "batchflow": [m.AsyncBatchFlow, m.AsyncParallelBatchFlow, m.BatchFlow],
        }
    # AsyncNode and AsyncFlow on the sync path: RuntimeError / the MRO quirk (spec §8, §10)
    return {
        "node": [m.Node, m.Node, m.Node, m.AsyncNode],
        "batch": [m.BatchNode, m.BatchNode, m.BatchNode, m.AsyncBatchNode],
        "flow": [m.Flow, m.AsyncFlow],
        "batchflow": [m.BatchFlow, m.BatchFlow],
    }


# --- node behaviour, shared by both implementations ------------------------------------


def _prep(node: Any, shared: dict[str, Any]) -> Any:
    spec: NodeSpec = node.spec
    visit = shared["visits"][spec.name] = shared["visits"].get(spec.name, 0) + 1
    # copies per visit: an attribute set on an earlier visit's copy is never seen again
    shared["trace"].append(
        ["prep", spec.name, visit, sorted(node.params.items()), getattr(node, "mark", None)]
    )
    node.mark, node.shared = visit, shared
    if spec.raise_in == "prep" and visit == spec.raise_visit:
        raise ValueError(f"prep failed in {spec.name}")
    if spec.kind == "batch":
        return None if spec.items < 0 else [f"{spec.name}.{visit}.{i}" for i in range(spec.items)]
    if spec.kind == "batchflow":
        return None if spec.items < 0 else [{"item": i} for i in range(spec.items)]
    return f"{spec.name}.{visit}"


def _attempt(node: Any, item: str, sync: bool) -> str:
    attempts = node.shared["attempts"]
    n = attempts[item] = attempts.get(item, 0) + 1
    node.shared["trace"].append(["exec", item, n, node.cur_retry if sync else "-"])
    if n <= node.spec.fails:
        raise ValueError(f"exec failed: {item} attempt {n}")
    return f"ok:{item}"


def _fallback(node: Any, prep_res: Any, exc: Exception) -> Any:
    node.shared["trace"].append(["fallback", repr(prep_res), str(exc)])
    if node.spec.fallback:
        return f"fallback:{exc}"
    raise exc


def _post(node: Any, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
    spec: NodeSpec = node.spec
    shared["trace"].append(["post", spec.name, repr(prep_res), repr(exec_res), node.mark])
    if spec.raise_in == "post" and node.mark == spec.raise_visit:
        raise KeyError(f"post failed in {spec.name}")
    shared["steps"] += 1
    if shared["steps"] > LIMIT:
        return "halt"
    return spec.actions[(node.mark - 1) % len(spec.actions)]


class SyncBehaviour:
    """prep/exec/post of a generated sync node."""

    spec: NodeSpec
    cur_retry: int

    def prep(self, shared: dict[str, Any]) -> Any:
        return _prep(self, shared)

    def exec(self, prep_res: str) -> str:
        return _attempt(self, prep_res, sync=True)

    def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
        return _fallback(self, prep_res, exc)

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        return _post(self, shared, prep_res, exec_res)


class AsyncBehaviour(SyncBehaviour):
    """The async hooks of a generated async node (sync hooks stay for the sync path)."""

    async def prep_async(self, shared: dict[str, Any]) -> Any:
        await asyncio.sleep(0)  # let parallel siblings interleave
        return _prep(self, shared)

    async def exec_async(self, prep_res: str) -> str:
        await asyncio.sleep(0)
        return _attempt(self, prep_res, sync=False)

    async def exec_fallback_async(self, prep_res: Any, exc: Exception) -> Any:
        return _fallback(self, prep_res, exc)

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        return _post(self, shared, prep_res, exec_res)


class FlowBehaviour:
    """A nested flow records its prep and post; post returns the inner last action."""

    spec: NodeSpec

    def prep(self, shared: dict[str, Any]) -> Any:
        return _prep(self, shared)

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        shared["trace"].append(["flow-post", self.spec.name, repr(prep_res), repr(exec_res)])
        shared["steps"] += 1  # an empty batch flow in a loop runs no leaf: count it here
        return "halt" if shared["steps"] > LIMIT else exec_res

    async def prep_async(self, shared: dict[str, Any]) -> Any:
        return _prep(self, shared)

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        return FlowBehaviour.post(self, shared, prep_res, exec_res)


def build(m: Impl, graph: GraphSpec, asynchronous: bool) -> Any:
    """Build the flow described by ``graph`` from the classes of module ``m``."""
    classes = _classes(m, asynchronous)
    flow_classes = classes[graph.kind]
    if asynchronous:  # the top flow must be awaitable
        flow_classes = [c for c in flow_classes if issubclass(c, m.AsyncFlow)]
    flow = flow_classes[graph.variant % len(flow_classes)](start=_nodes(m, graph, asynchronous))
    flow.set_params({"top": "p"})
    if graph.kind == "batchflow":  # the top batch flow gets its param dicts from prep
        flow.__class__ = type("Top", (TopBatch, type(flow)), {})
    return flow


def _nodes(m: Impl, graph: GraphSpec, asynchronous: bool) -> Any:
    """Create and wire the nodes of ``graph``; return its start node."""
    classes = _classes(m, asynchronous)
    nodes: list[Any] = []
    for spec in graph.nodes:
        base = classes[spec.kind][spec.variant % len(classes[spec.kind])]
        if spec.sub is not None:
            node = type(spec.name, (FlowBehaviour, base), {})(_nodes(m, spec.sub, asynchronous))
        else:
            mixin = AsyncBehaviour if issubclass(base, m.AsyncNode) else SyncBehaviour
            node = type(spec.name, (mixin, base), {})(max_retries=spec.max_retries)
        node.spec = spec
        nodes.append(node)
    for spec, node in zip(graph.nodes, nodes, strict=True):
        for action, target in spec.edges:
            if spec.wiring == 0:
                node.next(nodes[target], action)
            elif action == "default":
                _ = node >> nodes[target]
            else:
                _ = node - action >> nodes[target]
    return nodes[graph.start]


class TopBatch:
    """A top-level batch flow that runs its flow for two param sets."""

    def prep(self, shared: dict[str, Any]) -> Any:
        return [{"run": 0}, {"run": 1, "top": "override"}]

    async def prep_async(self, shared: dict[str, Any]) -> Any:
        return [{"run": 0}, {"run": 1, "top": "override"}]


# --- strategies --------------------------------------------------------------------------


@st.composite
def graphs(draw: st.DrawFn, depth: int = 0, prefix: str = "N") -> GraphSpec:
    """A random flow of 1-4 nodes; nested flows up to two levels deep."""
    size = draw(st.integers(1, 4))
    nodes = []
    for i in range(size):
        name = f"{prefix}{i}"
        kinds = ["node", "node", "batch"] + (["flow", "batchflow"] if depth < 2 else [])
        kind = draw(st.sampled_from(kinds))
        sub = draw(graphs(depth + 1, f"{name}_")) if kind in ("flow", "batchflow") else None
        nodes.append(
            NodeSpec(
                name=name,
                kind=kind,
                variant=draw(st.integers(0, 3)),
                actions=tuple(draw(st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3))),
                fails=draw(st.integers(0, 3)),
                max_retries=draw(st.integers(0, 3)),
                fallback=draw(st.booleans()),
                raise_in=draw(st.sampled_from(["", "", "", "prep", "post"])),
                raise_visit=draw(st.integers(1, 3)),
                items=draw(st.integers(-1, 3)),
                edges=tuple(
                    draw(
                        st.lists(
                            st.tuples(st.sampled_from(EDGE_ACTIONS), st.integers(0, size - 1)),
                            max_size=3,
                        )
                    )
                ),
                wiring=draw(st.integers(0, 1)),
                sub=sub,
            )
        )
    return GraphSpec(
        kind=draw(st.sampled_from(["flow", "flow", "batchflow"])),
        variant=draw(st.integers(0, 2)),
        nodes=tuple(nodes),
        start=draw(st.integers(0, size - 1)),
    )


# --- running and comparing ----------------------------------------------------------------

Outcome = dict[str, Any]


def _observe(
    run: Callable[[Any, dict[str, Any]], Any], m: Impl, graph: GraphSpec, a: bool
) -> Outcome:
    shared: dict[str, Any] = {"trace": [], "visits": {}, "attempts": {}, "steps": 0}
    with warnings.catch_warnings(record=True) as wiring_warnings:
        warnings.simplefilter("always")
        flow = build(m, graph, a)
    with warnings.catch_warnings(record=True) as run_warnings:
        warnings.simplefilter("always")
        try:
            result: Any = ("returned", repr(run(flow, shared)))
        except Exception as exc:
            result = ("raised", type(exc).__name__, str(exc))
        # snapshot now: parallel siblings of a failed gather may still be pending
        snapshot = copy.deepcopy(shared)
    return {
        "result": result,
        "shared": snapshot,
        "wiring_warnings": [(w.category.__name__, str(w.message)) for w in wiring_warnings],
        "run_warnings": [(w.category.__name__, str(w.message)) for w in run_warnings],
    }


def run_sync(flow: Any, shared: dict[str, Any]) -> Any:
    return flow.run(shared)


def run_async(flow: Any, shared: dict[str, Any]) -> Any:
    async def main() -> Any:
        return await flow.run_async(shared)

    return asyncio.run(main())


SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(graphs())
def test_engine_sync_flows_match_pocketflow(graph: GraphSpec) -> None:
    ours = _observe(run_sync, flows, graph, False)

    theirs = _observe(run_sync, pocketflow, graph, False)

    assert ours == theirs


@SETTINGS
@given(graphs())
def test_engine_async_flows_match_pocketflow(graph: GraphSpec) -> None:
    ours = _observe(run_async, flows, graph, True)

    theirs = _observe(run_async, pocketflow, graph, True)

    assert ours == theirs


def test_engine_differential_harness_sees_differences() -> None:
    # the harness must be able to fail: a node that skips copying changes the trace
    graph = GraphSpec(
        kind="flow",
        variant=0,
        nodes=(
            NodeSpec(
                name="N0",
                kind="node",
                variant=0,
                actions=("default",),
                fails=0,
                max_retries=1,
                fallback=False,
                raise_in="",
                raise_visit=1,
                items=0,
                edges=(("default", 0),),
                wiring=0,
                sub=None,
            ),
        ),
        start=0,
    )

    class NoCopyFlow(flows.Flow):
        def _orch(self, shared: Any, params: Any = None) -> Any:
            curr, last = self.start_node, None
            while curr:
                curr.set_params(params or {**self.params})
                last = curr._run(shared)
                curr = self.get_next_node(curr, last)
            return last

    ours = _observe(run_sync, flows, graph, False)
    with_bug = _observe(lambda f, s: NoCopyFlow(f.start_node).run(s), flows, graph, False)

    assert ours == _observe(run_sync, pocketflow, graph, False)
    assert ours["shared"] != with_bug["shared"]
