"""Checkpoints: stable node names, and building and loading the JSON form of a paused run.

A checkpoint is one JSON object::

    {"format": 1, "flow": {"id": "joke", "version": 1}, "status": "waiting",
     "levels": [{"node": "AwaitReview", "params": {}, "prep": null}],
     "shared": {...}, "wait": {...}}

``levels`` lists, outermost first, one :class:`Level` per (nested) flow: the flow's current
node, the params of that flow's orchestration and the flow's own prep result. ``status`` is
``running`` (continue at the node named by the last level), ``waiting`` (needs a decision) or
``finished``. JSON-ness is checked once, when a checkpoint is built from a run; loading trusts
the values and checks only the structure, failing with a :class:`~flows.durable.DurableError`.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flows.durable import (
    CHECKPOINT_FORMAT,
    Decision,
    DecisionNotAllowed,
    DurableError,
    FlowChanged,
    Wait,
    check_json,
    is_plain_json,
)

if TYPE_CHECKING:
    from flows.engine import BaseNode, Flow


@dataclass(slots=True)
class Level:
    """Where one flow of a (nested) run is: the flow, its node, its params and its prep result.

    ``node`` is the wired node (not the running copy); ``flow`` is the flow object running at
    this level (a nested flow's copy). ``prep`` is filled in as a suspension unwinds the flow.
    """

    flow: "Flow"
    node: "BaseNode"
    params: Any
    prep: Any = None


class _Suspend(Exception):  # control flow, not an error
    """Internal: unwinds the orchestration from a Wait up to the top-level run."""

    def __init__(self, wait: Wait, level: Level) -> None:
        self.wait = wait
        self.levels = [level]  # outermost first: each enclosing flow inserts its level


class Names:
    """The stable names of one flow graph's nodes, and the graph shape they were computed for."""

    __slots__ = ("by_id", "by_name", "shape", "start")

    def __init__(self, start: Any, by_name: dict[str, Any], shape: list[tuple[Any, ...]]) -> None:
        self.start, self.by_name, self.shape = start, by_name, shape
        self.by_id = {id(node): name for name, node in by_name.items()}


def names_of(flow: "Flow") -> Names:
    """The names of ``flow``'s nodes, cached on the flow and recomputed when its graph changed.

    The cache is checked on every call (start node, each node's ``node_id`` and successors, in
    order), so wiring or renaming a node after a run is seen by the next suspend or resume.
    """
    names: Names | None = flow.__dict__.get("_flows_names")
    if names is not None and flow.start_node is names.start:
        for node, node_id, successors in names.shape:
            if node.node_id != node_id or tuple(node.successors.values()) != successors:
                break
        else:  # the graph is as it was
            return names
    names = flow.__dict__["_flows_names"] = _compute_names(flow)  # copies of a nested flow share it
    return names


def _compute_names(flow: "Flow") -> Names:
    order = [flow.start_node] if flow.start_node is not None else []
    seen = {id(node) for node in order}
    for node in order:  # grows while we walk it: a breadth-first queue
        for succ in node.successors.values():
            if succ is not None and id(succ) not in seen:
                seen.add(id(succ))
                order.append(succ)
    by_name: dict[str, Any] = {}
    for node in order:
        if node.node_id is not None:
            if node.node_id in by_name:
                raise ValueError(f"duplicate node_id {node.node_id!r} in {flow_id(flow)}")
            by_name[node.node_id] = node
    for node in order:
        if node.node_id is None:
            base = name = type(node).__name__
            n = 2
            while name in by_name:
                name, n = f"{base}_{n}", n + 1
            by_name[name] = node
    shape = [(node, node.node_id, tuple(node.successors.values())) for node in order]
    return Names(flow.start_node, by_name, shape)


def node_names(flow: "Flow") -> dict[str, Any]:
    """Stable names of the nodes reachable from ``flow.start_node`` (breadth-first).

    An explicit ``node_id`` wins; otherwise the class name, with ``_2``, ``_3``... appended in
    traversal order when a name repeats. Give long-lived flows explicit ids.
    """
    return dict(names_of(flow).by_name)


def flow_id(flow: "Flow") -> str:
    """The identity a checkpoint records for ``flow``."""
    return flow.flow_id or type(flow).__name__


def _checkpoint(top: "Flow", status: str, shared: Any) -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "flow": {"id": top.flow_id or type(top).__name__, "version": top.flow_version},
        "status": status,
        "levels": [],
        "shared": shared,
        "wait": None,
    }


def _levels_json(levels: list[Level]) -> list[dict[str, Any]]:
    saved = []
    for level in levels:
        name = names_of(level.flow).by_id.get(id(level.node))
        if name is None:
            raise DurableError(f"node {level.node!r} is not reachable from {flow_id(level.flow)!r}")
        saved.append({"node": name, "params": level.params, "prep": level.prep})
    return saved


def waiting_checkpoint(top: "Flow", suspend: _Suspend, shared: Any) -> dict[str, Any]:
    """The checkpoint of a run that stopped at a Wait; raises NotSerializable if not JSON."""
    checkpoint = _checkpoint(top, "waiting", shared)
    levels = checkpoint["levels"] = _levels_json(suspend.levels)
    wait = checkpoint["wait"] = suspend.wait.to_json()
    # the one JSON check of a checkpoint, over everything in it that a program supplied
    if not is_plain_json([shared, wait["payload"], levels]):
        check_json(shared)  # not plain: json.dumps decides, naming the offending key
        check_json(levels, "levels")
        check_json(wait["payload"], "wait payload")
    return checkpoint


def running_checkpoint(top: "Flow", levels: list[Level], shared: Any) -> dict[str, Any]:
    """The checkpoint of a run about to execute the node named by its last level."""
    checkpoint = _checkpoint(top, "running", shared)
    checkpoint["levels"] = _levels_json(levels)
    return checkpoint


def finished_checkpoint(top: "Flow", shared: Any, result: Any) -> dict[str, Any]:
    """The checkpoint of a run that ended with ``result`` (its last action)."""
    checkpoint = _checkpoint(top, "finished", shared)
    checkpoint["result"] = result
    return checkpoint


def start_checkpoint(flow: "Flow", shared: Any) -> dict[str, Any]:
    """A checkpoint that starts ``flow`` from the beginning with ``shared``."""
    check_json(shared)
    return _checkpoint(flow, "running", shared)


def load_checkpoint(
    top: "Flow", checkpoint: Any, decision: Decision | None
) -> tuple[Any, list[Level]]:
    """Check ``checkpoint`` against ``top``; return its shared store and its levels.

    The resumed run works on ``checkpoint["shared"]`` in place, as ``run(shared)`` works on the
    caller's dict: resume a checkpoint once (load it again from its JSON to resume it again).
    The values are trusted to be JSON (they were checked when the checkpoint was built); the
    structure is not: a missing key or a value of the wrong type raises DurableError.
    """
    if type(checkpoint) is not dict:
        raise DurableError(f"a checkpoint is a JSON object, not {type(checkpoint).__name__}")
    try:
        _check_header(top, checkpoint, decision)
        levels = _resolve(top, checkpoint["levels"])
        shared = checkpoint["shared"]
    except (KeyError, TypeError, AttributeError) as exc:
        raise DurableError(f"malformed checkpoint: {type(exc).__name__}: {exc}") from exc
    return shared, levels


def _check_header(top: "Flow", checkpoint: dict[str, Any], decision: Decision | None) -> None:
    """Refuse another format, another flow, a newer version, or a decision out of place."""
    if checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise DurableError(f"unknown checkpoint format {checkpoint.get('format')!r}")
    ours = flow_id(top)
    info = checkpoint.get("flow") or {"id": ours, "version": top.flow_version}
    if info["id"] != ours:
        raise FlowChanged(f"checkpoint is for flow {info['id']!r}, not {ours!r}")
    if info["version"] > top.flow_version:
        raise FlowChanged(
            f"checkpoint is from version {info['version']} of flow {info['id']!r}, "
            f"newer than this code's version {top.flow_version}"
        )
    status = checkpoint["status"]
    if status == "waiting":
        if not checkpoint["levels"]:
            raise DurableError("malformed checkpoint: a waiting run has no levels")
        _check_decision(checkpoint["wait"], decision)
    elif status == "finished":
        raise DurableError("this run has finished; there is nothing to resume")
    elif status != "running":
        raise DurableError(f"unknown checkpoint status {status!r}")
    elif decision is not None:
        raise DurableError("this run is not waiting for a decision")


def _resolve(top: "Flow", saved: list[dict[str, Any]]) -> list[Level]:
    """The Level of each saved level, its node found by name in the flow of the level above."""
    levels: list[Level] = []
    flow: Any = top
    for depth, level in enumerate(saved):
        node = names_of(flow).by_name.get(level["node"]) if hasattr(flow, "start_node") else None
        if node is None:
            path = "/".join(str(lv["node"]) for lv in saved[: depth + 1])
            raise FlowChanged(
                f"flow changed: node {path!r} no longer exists in flow {flow_id(top)!r} "
                f"(version {top.flow_version}); migrate or expire this checkpoint"
            )
        params, prep = level["params"], level["prep"]
        if type(params) in _CONTAINERS:
            params = _clone(params)
        if type(prep) in _CONTAINERS:
            prep = _clone(prep)
        levels.append(Level(flow, node, params, prep))
        flow = node
    return levels


_CONTAINERS = frozenset({dict, list})


def _clone(value: Any) -> Any:
    """A private copy of JSON data (a deep copy of its dicts and lists, several times faster)."""
    kind = type(value)
    if kind is dict:
        new = value.copy()  # then replace the nested containers: most values are leaves
        for k, v in new.items():
            kind = type(v)
            if kind is list:  # most lists hold only leaves: copy them without recursing
                new[k] = v.copy() if _CONTAINERS.isdisjoint(map(type, v)) else _clone(v)
            elif kind is dict:
                new[k] = _clone(v)
        return new
    if kind is list:
        new = value.copy()
        for i, v in enumerate(new):
            if type(v) in _CONTAINERS:
                new[i] = _clone(v)
        return new
    return value


def _check_decision(wait: dict[str, Any], decision: Decision | None) -> None:
    """Refuse a missing decision or one whose action the (JSON) Wait does not allow."""
    kind, allowed = wait["kind"], wait["allowed"]
    if decision is None:
        raise DecisionNotAllowed(f"this run waits for a {kind!r} decision; none was given")
    if decision.action not in allowed:
        raise DecisionNotAllowed(
            f"decision {decision.action!r} is not allowed here; expected one of "
            f"{', '.join(repr(a) for a in allowed)}"
        )
