"""PocketFlow semantics (pocketflow-api.md), each test run on `flows` and on `pocketflow` 0.0.3.

Node behaviours are written once as mixins and combined with each implementation's classes,
so the same assertions hold for both; the two deliberate differences are tested at the end.
"""

import asyncio
import inspect
import time
import warnings
from typing import Any

import pocketflow
import pytest

import flows
from flows import engine

CLASSES = [
    "BaseNode",
    "Node",
    "BatchNode",
    "Flow",
    "BatchFlow",
    "AsyncNode",
    "AsyncBatchNode",
    "AsyncParallelBatchNode",
    "AsyncFlow",
    "AsyncBatchFlow",
    "AsyncParallelBatchFlow",
]


@pytest.fixture(params=[flows, pocketflow], ids=["flows", "pocketflow"])
def pf(request: pytest.FixtureRequest) -> Any:
    return request.param


def make(base: Any, *mixins: type, **attrs: Any) -> Any:
    """A node class: behaviour mixins on top of one implementation's base class."""
    return type(mixins[0].__name__ if mixins else base.__name__, (*mixins, base), attrs)


def store() -> dict[str, Any]:
    """A fresh, empty shared store."""
    return {}


def star(module: Any) -> set[str]:
    namespace: dict[str, Any] = {}
    exec(f"from {module.__name__} import *", namespace)  # noqa: S102  # the star-import itself
    return set(namespace) - {"__builtins__"}


class Say:
    """post returns the action in ``self.say`` and logs the node's label in shared["log"]."""

    say: Any = "default"
    label = "?"

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        shared.setdefault("log", []).append(self.label)
        return self.say


class Flaky:
    """exec fails ``self.failures`` times per call, recording every attempt and cur_retry."""

    failures = 1
    cur_retry: int

    def prep(self, shared: dict[str, Any]) -> Any:
        self.shared = shared
        return "x"

    def exec(self, prep_res: Any) -> Any:
        self.shared.setdefault("attempts", []).append(self.cur_retry)
        if len(self.shared["attempts"]) <= self.failures:
            raise ValueError(f"boom {len(self.shared['attempts'])}")
        return "ok"

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        shared["result"] = exec_res
        return "done"


# --- module surface -------------------------------------------------------------------------


def test_engine_has_the_same_classes_mro_and_signatures() -> None:
    def params(method: Any) -> list[tuple[str, Any]]:
        return [(p.name, p.default) for p in inspect.signature(method).parameters.values()]

    for name in CLASSES:
        ours, theirs = getattr(flows, name), getattr(pocketflow, name)
        assert [c.__name__ for c in ours.__mro__] == [c.__name__ for c in theirs.__mro__]
        for attr in dir(theirs):
            if callable(getattr(theirs, attr)) and (
                not attr.startswith("__") or attr in ("__init__", "__rshift__", "__sub__")
            ):
                assert params(getattr(ours, attr)) == params(getattr(theirs, attr)), attr


def test_engine_star_import_matches_pocketflow() -> None:
    ours, theirs = star(flows), star(pocketflow)

    assert theirs <= ours  # the 11 classes, plus asyncio, copy, time, warnings
    assert "_ConditionalTransition" not in ours
    assert flows._ConditionalTransition is engine._ConditionalTransition


# --- wiring ---------------------------------------------------------------------------------


def test_engine_wiring_returns_targets_and_warns_on_overwrite(pf: Any) -> None:
    a, b, c = pf.Node(), pf.Node(), pf.Node()

    assert (a >> b) is b
    assert (a - "x" >> c) is c
    assert a.next(c, "y") is c
    with pytest.warns(UserWarning, match=r"^Overwriting successor for action 'x'$"):
        a.next(b, "x")
    assert a.successors == {"default": b, "x": b, "y": c}
    with pytest.raises(TypeError, match=r"^Action must be a string$"):
        _ = a - 1
    flow, d = pf.Flow(), pf.Node()
    assert (flow.start(d) >> c) is c
    assert flow.start_node is d
    assert d.successors == {"default": c}


def test_engine_node_run_warns_about_successors_and_runs_alone(pf: Any) -> None:
    a = make(pf.Node, Say, label="a", say="post-value")()
    _ = a >> make(pf.Node, Say, label="b")()
    shared: dict[str, Any] = {}

    with pytest.warns(UserWarning, match=r"^Node won't run successors\. Use Flow\.$") as rec:
        result = a.run(shared)

    assert len(rec) == 1
    assert result == "post-value"
    assert shared == {"log": ["a"]}


async def test_engine_async_node_run_warns_and_sync_run_raises(pf: Any) -> None:
    a, b = pf.AsyncNode(), pf.AsyncNode()
    _ = a >> b

    with pytest.warns(UserWarning, match=r"^Node won't run successors\. Use AsyncFlow\.$"):
        assert await a.run_async({}) is None
    with (
        pytest.warns(UserWarning, match=r"Use Flow\.$"),
        pytest.raises(RuntimeError, match=r"^Use run_async\.$"),
    ):
        a.run({})


# --- routing and return values ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("say", "wired", "message"),
    [
        (None, "specific_action", "Flow ends: 'None' not found in ['specific_action']"),
        ("specific_action", "default", "Flow ends: 'specific_action' not found in ['default']"),
    ],
)
def test_engine_unmapped_action_ends_the_flow_with_one_warning(
    pf: Any, say: Any, wired: str, message: str
) -> None:
    a = make(pf.Node, Say, label="a", say=say)()
    a.next(make(pf.Node, Say, label="b")(), wired)

    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        result = pf.Flow(start=a).run(shared := store())

    assert [str(w.message) for w in rec] == [message]
    assert rec[0].category is UserWarning
    assert result == say
    assert shared == {"log": ["a"]}


@pytest.mark.parametrize("falsy", [None, ""])
def test_engine_falsy_actions_mean_default(pf: Any, falsy: Any) -> None:
    a = make(pf.Node, Say, label="a", say=falsy)()
    _ = a >> make(pf.Node, Say, label="b", say="end")()

    result = pf.Flow(start=a).run(shared := store())

    assert shared["log"] == ["a", "b"]
    assert result == "end"


def test_engine_branches_loops_and_returns_the_last_action(pf: Any) -> None:
    class Count:
        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["n"] = shared.get("n", 0) + 1
            return "again" if shared["n"] < 3 else "stop"

    counter = make(pf.Node, Count)()
    done = make(pf.Node, Say, label="done", say="finished")()
    counter - "again" >> counter
    counter - "stop" >> done

    result = pf.Flow(start=counter).run(shared := store())

    assert shared == {"n": 3, "log": ["done"]}
    assert result == "finished"


def test_engine_node_without_successors_ends_silently_and_batch_flow_returns_none(
    pf: Any,
) -> None:
    class Batches:
        def prep(self, shared: dict[str, Any]) -> Any:
            return [{"k": 1}, {"k": 2}]

    class Record:
        params: dict[str, Any]

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared.setdefault("seen", []).append(dict(self.params))
            return "unmapped"

    batch = make(pf.BatchFlow, Batches)(start=make(pf.Node, Record)())
    batch.set_params({"outer": 0})

    assert batch.run(shared := store()) is None
    assert shared["seen"] == [{"outer": 0, "k": 1}, {"outer": 0, "k": 2}]


def test_engine_falsy_node_ends_the_flow(pf: Any) -> None:
    class Empty:
        def __len__(self) -> int:
            return 0

    a = make(pf.Node, Say, label="a")()
    _ = a >> make(pf.Node, Empty, Say)()

    with pytest.warns(UserWarning, match=r"^Flow ends: 'default' not found in \['default'\]$"):
        pf.Flow(start=a).run(shared := store())

    assert shared == {"log": ["a"]}


# --- retries and fallback -------------------------------------------------------------------


@pytest.mark.parametrize(("retries", "failures", "attempts"), [(3, 2, 3), (1, 0, 1), (2, 5, 2)])
def test_engine_retries_exec_and_counts_cur_retry(
    pf: Any, retries: int, failures: int, attempts: int
) -> None:
    class Fallback:
        def exec_fallback(self, prep_res: Any, exc: Exception) -> Any:
            return f"fallback after {exc}"

    node = make(pf.Node, Fallback, Flaky, failures=failures)(max_retries=retries)

    assert node.run(shared := store()) == "done"

    assert shared["attempts"] == list(range(attempts))
    assert shared["result"] == ("ok" if failures < retries else f"fallback after boom {retries}")


def test_engine_without_fallback_the_last_error_propagates(pf: Any) -> None:
    node = make(pf.Node, Flaky, failures=5)(max_retries=2)

    with pytest.raises(ValueError, match=r"^boom 2$"):
        pf.Flow(start=node).run(shared := store())

    assert shared == {"attempts": [0, 1]}


def test_engine_zero_retries_never_calls_exec(pf: Any) -> None:
    node = make(pf.Node, Flaky)(max_retries=0)

    node.run(shared := store())

    assert shared == {"result": None}


def test_engine_waits_between_attempts_only(pf: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []
    monkeypatch.setattr(time, "sleep", sleeps.append)
    node = make(pf.Node, Flaky, failures=2)(max_retries=3, wait=0.5)

    node.run({})

    assert sleeps == [0.5, 0.5]


def test_engine_async_waits_between_attempts(pf: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sleeps: list[float] = []

    async def fake_sleep(delay: float) -> None:
        sleeps.append(delay)

    class AsyncFlaky(Flaky):
        async def prep_async(self, shared: dict[str, Any]) -> Any:
            return self.prep(shared)

        async def exec_async(self, prep_res: Any) -> Any:
            self.shared.setdefault("attempts", []).append("-")  # 0.0.3 keeps no cur_retry
            if len(self.shared["attempts"]) <= self.failures:
                raise ValueError("boom")
            return "ok"

    node = make(pf.AsyncNode, AsyncFlaky, failures=2)(max_retries=3, wait=0.25)
    monkeypatch.setattr(asyncio, "sleep", fake_sleep)  # after this, no real sleeps

    asyncio.run(node.run_async(shared := store()))

    assert sleeps == [0.25, 0.25]
    assert shared["attempts"] == ["-", "-", "-"]


def test_engine_prep_and_post_errors_are_not_retried(pf: Any) -> None:
    class BadPrep(Flaky):
        def prep(self, shared: dict[str, Any]) -> Any:
            shared["preps"] = shared.get("preps", 0) + 1
            raise KeyError("prep")

    with pytest.raises(KeyError, match="prep"):
        make(pf.Node, BadPrep)(max_retries=3).run(shared := store())

    assert shared == {"preps": 1}


def test_engine_base_exceptions_are_not_retried(pf: Any) -> None:
    class Interrupt(Flaky):
        def exec(self, prep_res: Any) -> Any:
            self.shared.setdefault("attempts", []).append(self.cur_retry)
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make(pf.Node, Interrupt)(max_retries=3).run(shared := store())

    assert shared == {"attempts": [0]}


def test_engine_batch_node_retries_per_item_and_accepts_none(pf: Any) -> None:
    class Items:
        items: Any = None

        def prep(self, shared: dict[str, Any]) -> Any:
            self.tries: dict[str, int] = {}
            return self.items

        def exec(self, item: str) -> str:
            self.tries[item] = self.tries.get(item, 0) + 1
            if item == "b" and self.tries[item] < 2:
                raise ValueError(item)
            return item.upper()

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["out"], shared["tries"] = exec_res, self.tries

    make(pf.BatchNode, Items, items=["a", "b"])(max_retries=2).run(shared := store())
    make(pf.BatchNode, Items)().run(empty := store())

    assert shared == {"out": ["A", "B"], "tries": {"a": 1, "b": 2}}
    assert empty == {"out": [], "tries": {}}


# --- copies and params ----------------------------------------------------------------------


def test_engine_runs_a_fresh_copy_per_visit_and_shares_init_objects(pf: Any) -> None:
    class Visit:
        def __init__(self) -> None:
            super().__init__()
            self.box: list[int] = []  # created once, shared by all copies

        def prep(self, shared: dict[str, Any]) -> Any:
            shared.setdefault("seen", []).append(getattr(self, "visits", 0))
            self.visits = 1  # lands on this visit's copy only
            self.box.append(1)
            shared.setdefault("ids", set()).add(id(self))

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            return "again" if len(self.box) < 3 else "done"

    node = make(pf.Node, Visit)()
    node - "again" >> node
    node - "done" >> pf.Node()

    pf.Flow(start=node).run(shared := store())

    assert shared["seen"] == [0, 0, 0]
    assert node.box == [1, 1, 1]
    assert not hasattr(node, "visits")
    assert id(node) not in shared["ids"]


def test_engine_params_are_one_shared_object_and_override_the_nodes_own(pf: Any) -> None:
    class Params:
        params: dict[str, Any]

        def prep(self, shared: dict[str, Any]) -> Any:
            shared.setdefault("params", []).append(self.params)

    a, b = make(pf.Node, Params)(), make(pf.Node, Params)()
    a.set_params({"mine": 1})
    inner_node = make(pf.Node, Params)()
    inner = pf.Flow(start=inner_node)
    _ = a >> b >> inner
    flow = pf.Flow(start=a)
    flow.set_params({"flow": 1})

    flow.run(shared := store())

    pa, pb, pi = shared["params"]
    assert pa == pb == pi == {"flow": 1}
    assert pa is pb  # one dict per orchestration
    assert pi is not pa  # a nested flow copies its params for its own nodes
    assert pa is not flow.params
    assert a.params == {"mine": 1}  # the original is never run


def test_engine_nested_batch_flows_merge_params_level_by_level(pf: Any) -> None:
    class Outer:
        def prep(self, shared: dict[str, Any]) -> Any:
            return [{"o": 1}, {"o": 2}]

    class Inner:
        params: dict[str, Any]

        def prep(self, shared: dict[str, Any]) -> Any:
            return [{"i": self.params["o"] * 10}]

    class Leaf:
        params: dict[str, Any]

        def prep(self, shared: dict[str, Any]) -> Any:
            shared.setdefault("leaf", []).append(dict(self.params))

    inner = make(pf.BatchFlow, Inner)(start=make(pf.Node, Leaf)())
    outer = make(pf.BatchFlow, Outer)(start=inner)
    outer.set_params({"top": True})

    outer.run(shared := store())

    assert shared["leaf"] == [{"top": True, "o": 1, "i": 10}, {"top": True, "o": 2, "i": 20}]


def test_engine_nested_flow_branches_on_its_last_action(pf: Any) -> None:
    inner = pf.Flow(start=make(pf.Node, Say, label="inner", say="x")())
    inner - "x" >> make(pf.Node, Say, label="after-x")()
    outer = pf.Flow(start=inner)

    outer.run(shared := store())

    assert shared == {"log": ["inner", "after-x"]}


def test_engine_uses_a_nodes_own_copy_protocol(pf: Any) -> None:
    class Copies:
        def __copy__(self) -> Any:
            clone = type(self).__new__(type(self))
            clone.__dict__.update(self.__dict__, copied=True)
            return clone

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["copied"] = getattr(self, "copied", False)

    pf.Flow(start=make(pf.Node, Copies)()).run(shared := store())

    assert shared == {"copied": True}


# --- async composition ----------------------------------------------------------------------


class AsyncSay:
    """Async twin of Say."""

    say: Any = "default"
    label = "?"

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        shared.setdefault("log", []).append(self.label)
        return self.say


async def test_engine_async_flow_mixes_sync_nodes_and_nested_async_flows(pf: Any) -> None:
    inner = pf.AsyncFlow(make(pf.AsyncNode, AsyncSay, label="inner", say="right")())
    first = make(pf.Node, Say, label="sync")()
    _ = first >> inner
    inner - "right" >> make(pf.AsyncNode, AsyncSay, label="right", say=None)()
    inner - "left" >> make(pf.AsyncNode, AsyncSay, label="left")()

    result = await pf.AsyncFlow(start=first).run_async(shared := store())

    assert shared == {"log": ["sync", "inner", "right"]}
    assert result is None
    assert await make(pf.AsyncNode, AsyncSay, say="x")().run_async({}) == "x"


def test_engine_async_flow_sync_run_quirk(pf: Any) -> None:
    sync_only = pf.AsyncFlow(make(pf.Node, Say, label="s", say="end")())
    with_async = pf.AsyncFlow(pf.AsyncNode())

    assert sync_only.run(shared := store()) == "end"
    assert shared == {"log": ["s"]}
    with pytest.raises(RuntimeError, match=r"^Use run_async\.$"):
        with_async.run({})


@pytest.mark.parametrize("name", ["AsyncBatchNode", "AsyncParallelBatchNode"])
async def test_engine_async_batch_nodes_reject_none(pf: Any, name: str) -> None:
    with pytest.raises(TypeError, match=r"^'NoneType' object is not iterable$"):
        await getattr(pf, name)().run_async({})


class Concurrency:
    """Items await between start and end; the peak count shows whether they overlapped."""

    async def prep_async(self, shared: dict[str, Any]) -> Any:
        self.shared = shared
        return ["a", "b", "c"]

    async def exec_async(self, item: str) -> str:
        self.shared["running"] = self.shared.get("running", 0) + 1
        self.shared["peak"] = max(self.shared.get("peak", 0), self.shared["running"])
        await asyncio.sleep(0)
        self.shared["running"] -= 1
        self.shared.setdefault("done", []).append(item)
        if item == self.shared.get("fail"):
            raise ValueError(item)
        return item.upper()

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        shared["out"] = exec_res


@pytest.mark.parametrize(("name", "peak"), [("AsyncBatchNode", 1), ("AsyncParallelBatchNode", 3)])
async def test_engine_parallel_batch_node_overlaps_items(pf: Any, name: str, peak: int) -> None:
    await make(getattr(pf, name), Concurrency)().run_async(shared := store())

    assert shared["peak"] == peak
    assert shared["out"] == ["A", "B", "C"]


async def test_engine_parallel_batch_node_error_propagates(pf: Any) -> None:
    with pytest.raises(ValueError, match=r"^b$"):
        await make(pf.AsyncParallelBatchNode, Concurrency)().run_async({"fail": "b"})


@pytest.mark.parametrize(("name", "peak"), [("AsyncBatchFlow", 1), ("AsyncParallelBatchFlow", 3)])
async def test_engine_parallel_batch_flow_overlaps_runs(pf: Any, name: str, peak: int) -> None:
    class Runs:
        async def prep_async(self, shared: dict[str, Any]) -> Any:
            return [{"run": r} for r in range(3)]

    class Step:
        params: dict[str, Any]

        async def exec_async(self, prep_res: Any) -> Any:
            return self.params["run"]

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["running"] = shared.get("running", 0) + 1
            shared["peak"] = max(shared.get("peak", 0), shared["running"])
            await asyncio.sleep(0)
            shared["running"] -= 1
            shared.setdefault("runs", []).append(exec_res)

    flow = make(getattr(pf, name), Runs)(start=make(pf.AsyncNode, Step)())

    assert await flow.run_async(shared := store()) is None

    assert shared["peak"] == peak
    assert sorted(shared["runs"]) == [0, 1, 2]


# --- deliberate differences -----------------------------------------------------------------


async def test_engine_async_node_sets_cur_retry_unlike_pocketflow_003() -> None:
    class Reads:
        async def exec_async(self, prep_res: Any) -> Any:
            return getattr(self, "cur_retry", "unset")

        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            return exec_res

    ours = await make(flows.AsyncNode, Reads)().run_async({})
    theirs = await make(pocketflow.AsyncNode, Reads)().run_async({})

    assert ours == 0  # HEAD behaviour (PocketFlow PR #101)
    assert theirs == "unset"  # 0.0.3 keeps the attempt number in a local variable


class RetryOnce:
    """Each item fails its first attempt; awaiting lets the other item run in between."""

    cur_retry: int

    async def prep_async(self, shared: dict[str, Any]) -> Any:
        self.seen: list[tuple[str, int]] = []
        return ["a", "b"]

    async def exec_async(self, item: str) -> str:
        attempt = self.cur_retry
        self.seen.append((item, attempt))
        await asyncio.sleep(0)
        if attempt == 0:
            raise ValueError(item)
        return "ok"

    async def exec_fallback_async(self, item: str, exc: Exception) -> str:
        return f"fallback({item})"

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        shared["out"], shared["seen"] = exec_res, self.seen
        shared["after"] = self.cur_retry


class HeadAsyncNode(pocketflow.AsyncNode):  # type: ignore[misc]  # pocketflow is untyped
    """pocketflow 0.0.3 with HEAD's AsyncNode retry loop (attempts in ``self.cur_retry``)."""

    async def _exec(self, prep_res: Any) -> Any:
        for self.cur_retry in range(self.max_retries):  # noqa: B020  # HEAD's loop, verbatim
            try:
                return await self.exec_async(prep_res)
            except Exception as e:
                if self.cur_retry == self.max_retries - 1:
                    return await self.exec_fallback_async(prep_res, e)
        return None


async def test_engine_parallel_batch_counts_attempts_per_item_unlike_pocketflow_head() -> None:
    ours_cls = make(flows.AsyncParallelBatchNode, RetryOnce)
    head_cls = type("Head", (RetryOnce, pocketflow.AsyncParallelBatchNode, HeadAsyncNode), {})

    await ours_cls(max_retries=2).run_async(ours := store())
    await head_cls(max_retries=2).run_async(head := store())

    assert ours["out"] == ["ok", "ok"]  # each item got both of its attempts
    assert sorted(ours["seen"]) == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    assert ours["after"] == 1  # outside exec_async: the last value set, as in PocketFlow
    # the race (PR #148): a's retry set the shared cur_retry to 1, so b's failure was "last"
    assert head["out"] == ["ok", "fallback(b)"]
    assert head["seen"] == [("a", 0), ("b", 0), ("a", 1)]


def test_engine_copies_slotted_and_builtin_based_nodes_like_copy_copy(pf: Any) -> None:
    class Slotted:
        __slots__ = ("tag",)
        tag: str

        def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
            shared["tag"] = self.tag

    class Mapping(dict[str, int]):
        pass

    slotted = make(pf.Node, Slotted)()
    slotted.tag = "kept"
    mapping = make(pf.Node, Mapping)()
    mapping["k"] = 1  # an empty one would be falsy, and a falsy node ends the flow

    pf.Flow(start=slotted).run(shared := store())

    assert shared == {"tag": "kept"}
    # copy.copy of a dict-based object rebuilds it from its items and drops its attributes;
    # the engine's fast copy path must not kick in and "fix" that
    with pytest.raises(AttributeError, match="max_retries"):
        pf.Flow(start=mapping).run({})
