"""Checkpoints: stable node names, and building and loading the JSON form of a paused run.

A checkpoint is one JSON object::

    {"format": 1, "flow": {"id": "joke", "version": 1}, "status": "waiting",
     "levels": [{"node": "AwaitReview", "params": {}, "prep": null}],
     "shared": {...}, "wait": {...}}

``levels`` lists, outermost first, the current node of each (nested) flow with the params of
that flow's orchestration and the flow's own prep result. ``status`` is ``running`` (continue
at the node named by the last level), ``waiting`` (needs a decision) or ``finished``.
"""

from typing import Any

from flows.durable import (
    CHECKPOINT_FORMAT,
    Decision,
    DecisionNotAllowed,
    DurableError,
    FlowChanged,
    Wait,
    check_json,
)


class _Suspend(Exception):  # control flow, not an error
    """Internal: unwinds the orchestration from a Wait up to the top-level run."""

    def __init__(self, wait: Wait) -> None:
        super().__init__(wait.kind)
        self.wait = wait
        self.levels: list[list[Any]] = []  # [flow, original node, params, prep], outermost first


def node_names(flow: Any) -> dict[str, Any]:
    """Stable names of the nodes reachable from ``flow.start_node`` (breadth-first).

    An explicit ``node_id`` wins; otherwise the class name, with ``_2``, ``_3``... appended in
    traversal order when a name repeats. Give long-lived flows explicit ids.
    """
    order = [flow.start_node] if flow.start_node is not None else []
    seen = {id(node) for node in order}
    for node in order:  # grows while we walk it: a breadth-first queue
        for succ in node.successors.values():
            if succ is not None and id(succ) not in seen:
                seen.add(id(succ))
                order.append(succ)
    names: dict[str, Any] = {}
    for node in order:
        if node.node_id is not None:
            if node.node_id in names:
                raise ValueError(f"duplicate node_id {node.node_id!r} in {flow_id(flow)}")
            names[node.node_id] = node
    for node in order:
        if node.node_id is None:
            base = name = type(node).__name__
            n = 2
            while name in names:
                name, n = f"{base}_{n}", n + 1
            names[name] = node
    return names


def flow_id(flow: Any) -> str:
    """The identity a checkpoint records for ``flow``."""
    return flow.flow_id or type(flow).__name__


def _header(flow: Any, status: str, shared: Any) -> dict[str, Any]:
    return {
        "format": CHECKPOINT_FORMAT,
        "flow": {"id": flow_id(flow), "version": flow.flow_version},
        "status": status,
        "levels": [],
        "shared": shared,
        "wait": None,
    }


def suspended(top: Any, s: _Suspend, shared: Any) -> dict[str, Any]:
    """The waiting checkpoint for a run that raised _Suspend."""
    levels = []
    for flow, node, params, prep in s.levels:
        name = next(name for name, n in node_names(flow).items() if n is node)
        levels.append({"node": name, "params": params, "prep": prep})
    cp = _header(top, "waiting", shared)
    cp["levels"], cp["wait"] = levels, s.wait.to_json()
    check_json(shared)
    check_json(levels, "levels")
    return cp


def running(trail: list[dict[str, Any]], shared: Any, top: Any = None) -> dict[str, Any]:
    """The runnable checkpoint for the position described by the engine's trail."""
    cp = _header(top, "running", shared) if top is not None else _bare("running", shared)
    cp["levels"] = [dict(frame) for frame in trail]
    return cp


def _bare(status: str, shared: Any) -> dict[str, Any]:
    return {"format": CHECKPOINT_FORMAT, "status": status, "levels": [], "shared": shared}


def finished(top: Any, shared: Any, result: Any) -> dict[str, Any]:
    """The checkpoint of a run that ended with ``result`` (its last action)."""
    cp = _header(top, "finished", shared)
    cp["result"] = result
    return cp


def start(flow: Any, shared: Any) -> dict[str, Any]:
    """A checkpoint that starts ``flow`` from the beginning with ``shared``."""
    check_json(shared)
    return _header(flow, "running", shared)


def load(top: Any, cp: dict[str, Any], decision: Decision | None) -> tuple[Any, list[Any]]:
    """Validate ``cp`` against ``top``; return a private copy of shared and resolved levels."""
    if cp.get("format") != CHECKPOINT_FORMAT:
        raise DurableError(f"unknown checkpoint format {cp.get('format')!r}")
    info = cp.get("flow") or {"id": flow_id(top), "version": top.flow_version}
    if info["id"] != flow_id(top):
        raise FlowChanged(f"checkpoint is for flow {info['id']!r}, not {flow_id(top)!r}")
    if info["version"] > top.flow_version:
        raise FlowChanged(
            f"checkpoint is from version {info['version']} of flow {info['id']!r}, "
            f"newer than this code's version {top.flow_version}"
        )
    status = cp["status"]
    if status == "finished":
        raise DurableError("this run has finished; there is nothing to resume")
    if status == "waiting":
        _check_decision(cp["wait"], decision)
    elif decision is not None:
        raise DurableError("this run is not waiting for a decision")
    levels, flow = [], top
    for depth, level in enumerate(cp["levels"]):
        node = node_names(flow).get(level["node"]) if hasattr(flow, "start_node") else None
        if node is None:
            path = "/".join(lv["node"] for lv in cp["levels"][: depth + 1])
            raise FlowChanged(
                f"flow changed: node {path!r} no longer exists in flow {flow_id(top)!r} "
                f"(version {top.flow_version}); migrate or expire this checkpoint"
            )
        levels.append((node, _clone(level["params"]), _clone(level["prep"]), level["node"]))
        flow = node
    return _clone(cp["shared"]), levels


def _clone(value: Any) -> Any:
    """A private copy of JSON data (a deep copy of its dicts and lists, several times faster)."""
    kind = type(value)
    if kind is dict:
        new = value.copy()  # then replace the nested containers: most values are leaves
        for k, v in new.items():
            if type(v) is dict or type(v) is list:
                new[k] = _clone(v)
        return new
    if kind is list:
        new = value.copy()
        for i, v in enumerate(new):
            if type(v) is dict or type(v) is list:
                new[i] = _clone(v)
        return new
    return value


def _check_decision(wait: dict[str, Any], decision: Decision | None) -> None:
    """Refuse a missing decision or one whose action the (JSON) Wait does not allow."""
    if decision is None:
        raise DecisionNotAllowed(f"this run waits for a {wait['kind']!r} decision; none was given")
    if decision.action not in wait["allowed"]:
        raise DecisionNotAllowed(
            f"decision {decision.action!r} is not allowed here; expected one of "
            f"{', '.join(repr(a) for a in wait['allowed'])}"
        )
