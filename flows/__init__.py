"""Flows: the PocketFlow-compatible engine, the durable-pause vocabulary and the joke flow.

``from flows import Node, Flow, ...`` is a drop-in replacement for ``from pocketflow import``.
"""

# PocketFlow's star-import also exports the four modules it imports; programs may rely on it
import asyncio
import copy
import time
import warnings

from flows.checkpoint import node_names, start_checkpoint
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
    _ConditionalTransition as _ConditionalTransition,  # importable, not star-exported
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
    "asyncio",
    "collect_effects",
    "copy",
    "emit",
    "node_names",
    "start_checkpoint",
    "time",
    "warnings",
]
