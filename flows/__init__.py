"""Flows: the PocketFlow-compatible engine, the durable-pause vocabulary and the joke flow.

``from flows import Node, Flow, ...`` is a drop-in replacement for ``from pocketflow import``.
"""

from flows.checkpoint import node_names, start
from flows.durable import (
    Decision,
    DecisionNotAllowed,
    DurableError,
    Effect,
    FlowChanged,
    NotSerializable,
    Suspended,
    Wait,
    collect_effects,
    emit,
)
from flows.engine import (
    AsyncBatchFlow,
    AsyncBatchNode,
    AsyncFlow,
    AsyncNode,
    AsyncParallelBatchFlow,
    AsyncParallelBatchNode,
    BaseNode,
    BatchFlow,
    BatchNode,
    Flow,
    Node,
    StepHook,
    _ConditionalTransition,
)

__all__ = [
    "AsyncBatchFlow",
    "AsyncBatchNode",
    "AsyncFlow",
    "AsyncNode",
    "AsyncParallelBatchFlow",
    "AsyncParallelBatchNode",
    "BaseNode",
    "BatchFlow",
    "BatchNode",
    "Decision",
    "DecisionNotAllowed",
    "DurableError",
    "Effect",
    "Flow",
    "FlowChanged",
    "Node",
    "NotSerializable",
    "StepHook",
    "Suspended",
    "Wait",
    "_ConditionalTransition",
    "collect_effects",
    "emit",
    "node_names",
    "start",
]
