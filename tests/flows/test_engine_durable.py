"""Durable pause: Wait, JSON checkpoints, resume, stable names and the on_step hook."""

import json
import re
from typing import Any

import pytest

from flows import (
    AsyncBatchFlow,
    AsyncFlow,
    AsyncNode,
    AsyncParallelBatchFlow,
    BatchFlow,
    Decision,
    DecisionNotAllowed,
    DurableError,
    Effect,
    Flow,
    FlowChanged,
    Node,
    NotSerializable,
    Suspended,
    Wait,
    emit,
    node_names,
    start_checkpoint,
)

REVIEW = Wait("review", ("approve", "reject", "edit"), payload={"card": 1})
Journal = list[str]
Call = tuple[dict[str, Any], list[dict[str, Any]]]


def roundtrip(value: Any) -> Any:
    return json.loads(json.dumps(value))


class Step(Node):
    """Logs its name in the journal (shared by all copies) and in shared["steps"]."""

    def __init__(self, journal: Journal, action: Any = "default") -> None:
        super().__init__()
        self.journal, self.action = journal, action

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        self.journal.append(type(self).__name__)
        shared.setdefault("steps", []).append(type(self).__name__)
        return self.action


class Intake(Step):
    pass


class Ask(Step):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        super().post(shared, prep_res, exec_res)
        return REVIEW


class Publish(Step):
    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        super().post(shared, prep_res, exec_res)
        self.journal.append(f"final {json.dumps(shared, sort_keys=True)}")
        return "published"


class Discard(Step):
    pass


def sync_flow(journal: Journal) -> Flow:
    intake, ask = Intake(journal), Ask(journal)
    _ = intake >> ask
    ask - "approve" >> Publish(journal)
    ask - "reject" >> Discard(journal, action=None)
    return Flow(start=intake)


# --- suspend and resume ---------------------------------------------------------------------


def test_engine_wait_suspends_with_a_plain_json_checkpoint() -> None:
    journal: Journal = []
    shared: dict[str, Any] = {"topic": "cats"}

    result = sync_flow(journal).run(shared)

    assert isinstance(result, Suspended)
    assert journal == ["Intake", "Ask"]
    assert roundtrip(result.checkpoint) == result.checkpoint
    assert result.checkpoint == {
        "format": 1,
        "flow": {"id": "Flow", "version": 1},
        "status": "waiting",
        "levels": [{"node": "Ask", "params": {}, "prep": None}],
        "shared": {"topic": "cats", "steps": ["Intake", "Ask"]},
        "wait": {
            "kind": "review",
            "allowed": ["approve", "reject", "edit"],
            "payload": {"card": 1},
            "timeout_s": None,
            "on_timeout": "timeout",
        },
    }
    assert result.wait == REVIEW


@pytest.mark.parametrize(
    ("action", "ran"),
    [("approve", ["Publish"]), ("reject", ["Discard"])],
)
def test_engine_resume_continues_at_the_decided_successor_only(action: str, ran: list[str]) -> None:
    journal: Journal = []
    checkpoint = roundtrip(sync_flow(journal).run({"topic": "cats"}).checkpoint)
    journal.clear()

    result = sync_flow(journal).resume(checkpoint, Decision(action, {"why": "ok"}, actor="mod"))

    assert [j for j in journal if not j.startswith("final")] == ran  # Intake, Ask never again
    assert result == {"approve": "published", "reject": None}[action]


def test_engine_resume_with_an_unwired_decision_ends_like_an_unmapped_action() -> None:
    journal: Journal = []
    checkpoint = roundtrip(sync_flow(journal).run({}).checkpoint)
    journal.clear()

    with pytest.warns(
        UserWarning, match=r"^Flow ends: 'edit' not found in \['approve', 'reject'\]$"
    ):
        result = sync_flow(journal).resume(checkpoint, Decision("edit"))

    assert result == "edit"
    assert journal == []


def test_engine_resume_gives_nodes_the_decision_data() -> None:
    journal: Journal = []
    checkpoint = roundtrip(sync_flow(journal).run({"topic": "cats"}).checkpoint)

    sync_flow(journal).resume(checkpoint, Decision("approve", {"text": "edited"}, actor="mod"))

    final = json.loads(journal[-1].removeprefix("final "))
    assert final == {
        "topic": "cats",
        "steps": ["Intake", "Ask", "Publish"],
        "decision": {"action": "approve", "data": {"text": "edited"}, "actor": "mod"},
    }


def test_engine_on_decision_override_applies_the_decision() -> None:
    class Choose(Ask):
        def on_decision(self, shared: Any, decision: Decision) -> Any:
            shared["choice"] = decision.data["pick"]
            return "approve" if decision.data["pick"] == "a" else "reject"

    journal: Journal = []
    choose = Choose(journal)
    choose - "approve" >> Publish(journal)
    flow = Flow(start=choose)
    checkpoint = roundtrip(flow.run({}).checkpoint)

    flow.resume(checkpoint, Decision("edit", {"pick": "a"}))

    assert json.loads(journal[-1].removeprefix("final "))["choice"] == "a"


@pytest.mark.parametrize(
    ("decision", "message"),
    [
        (Decision("maybe"), "decision 'maybe' is not allowed here; expected one of 'approve'"),
        (None, "this run waits for a 'review' decision; none was given"),
    ],
)
def test_engine_refuses_a_decision_the_wait_does_not_allow(
    decision: Decision | None, message: str
) -> None:
    journal: Journal = []
    checkpoint = roundtrip(sync_flow(journal).run({"topic": "cats"}).checkpoint)
    before, journal[:] = roundtrip(checkpoint), []

    with pytest.raises(DecisionNotAllowed, match=message):
        sync_flow(journal).resume(checkpoint, decision)

    assert checkpoint == before
    assert journal == []


async def test_engine_refuses_decisions_for_runs_that_do_not_wait() -> None:
    flow = async_flow([])
    fresh = start_checkpoint(flow, {"drafts": [], "rejected": []})
    finished = (await drive(flow, fresh, ["approve"]))[-1][0]

    with pytest.raises(DurableError, match="this run is not waiting for a decision"):
        await flow.resume_async(fresh, Decision("approve"))
    with pytest.raises(DurableError, match="this run has finished; there is nothing to resume"):
        await flow.resume_async(finished)


def test_engine_resume_from_a_start_checkpoint_runs_from_the_beginning() -> None:
    journal: Journal = []
    flow = sync_flow(journal)

    result = flow.resume(roundtrip(start_checkpoint(flow, {"topic": "dogs"})))

    assert isinstance(result, Suspended)
    assert result.checkpoint["shared"] == {"topic": "dogs", "steps": ["Intake", "Ask"]}


# --- nested flows -----------------------------------------------------------------------------


class Recording(Flow):
    """A nested flow whose prep result must survive the pause and reach post."""

    def prep(self, shared: dict[str, Any]) -> Any:
        shared["inner_preps"] = shared.get("inner_preps", 0) + 1
        return {"prepared": shared["inner_preps"]}

    def post(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        shared["inner_post"] = [prep_res, exec_res]
        return exec_res


def nested_flow(journal: Journal, outer: type[Flow] = Flow) -> Any:
    ask = Ask(journal)
    ask - "approve" >> Publish(journal)  # inner last action "published"
    inner = Recording(start=ask)
    inner.node_id = "review_loop"
    outer_start = Intake(journal)
    _ = outer_start >> inner
    inner - "published" >> Discard(journal, action=None)
    return outer(start=outer_start)


def test_engine_wait_in_a_nested_flow_suspends_and_resumes_inside_it() -> None:
    journal: Journal = []
    suspended = nested_flow(journal).run({})
    checkpoint = roundtrip(suspended.checkpoint)
    journal.clear()

    result = nested_flow(journal).resume(checkpoint, Decision("approve"))

    assert [lv["node"] for lv in checkpoint["levels"]] == ["review_loop", "Ask"]
    assert checkpoint["levels"][1]["prep"] == {"prepared": 1}  # the nested flow's prep
    assert result is None  # Discard's action, from the outer flow
    assert [j for j in journal if not j.startswith("final")] == ["Publish", "Discard"]
    final = json.loads(journal[1].removeprefix("final "))
    assert final["inner_preps"] == 1  # the nested flow's prep did not run again


async def test_engine_async_resume_runs_the_nested_flows_post_with_its_recorded_prep() -> None:
    flow = nested_flow([], outer=AsyncFlow)  # a sync nested flow inside an async one
    calls = await drive(flow, start_checkpoint(flow, {}), ["approve"])

    final = calls[-1][0]
    assert final["status"] == "finished"
    assert final["shared"]["inner_post"] == [{"prepared": 1}, "published"]
    assert final["result"] is None


# --- stable names and flow changes --------------------------------------------------------------


def test_engine_node_names_are_explicit_or_derived_and_disambiguated() -> None:
    journal: Journal = []
    a, b, c, d = Step(journal), Step(journal), Step(journal), Intake(journal)
    c.node_id = "Step"  # an explicit id wins; derived names skip it
    _ = a >> b >> c >> d

    names = node_names(Flow(start=a))

    assert names == {"Step": c, "Step_2": a, "Step_3": b, "Intake": d}


def test_engine_duplicate_node_ids_are_refused() -> None:
    a, b = Step([]), Step([])
    a.node_id = b.node_id = "same"
    _ = a >> b

    with pytest.raises(ValueError, match="duplicate node_id 'same'"):
        node_names(Flow(start=a))


def test_engine_node_added_after_a_first_run_resolves_on_resume() -> None:
    journal: Journal = []
    intake, ask, publish = Intake(journal), Ask(journal), Publish(journal)
    _ = intake >> ask
    ask - "approve" >> publish
    flow = Flow(start=intake)
    checkpoint = roundtrip(flow.run({}).checkpoint)  # names computed and cached here
    later = Discard(journal, action=None)

    ask - "reject" >> later  # wired after the first run
    result = flow.resume(checkpoint, Decision("reject"))

    assert node_names(flow) == {"Intake": intake, "Ask": ask, "Publish": publish, "Discard": later}
    assert result is None
    assert journal[-1] == "Discard"


def test_engine_node_names_follow_renames_and_rewiring_after_a_run() -> None:
    journal: Journal = []
    first, second = Ask(journal), Ask(journal)
    flow = Flow(start=first)
    first - "approve" >> second
    assert roundtrip(flow.run({}).checkpoint)["levels"] == [
        {"node": "Ask", "params": {}, "prep": None}
    ]

    first.node_id = "first"  # the derived names shift: second becomes "Ask"
    renamed = node_names(flow)
    first.successors["approve"] = third = Ask(journal)  # not via next(): still seen
    rewired = node_names(flow)
    flow.start(second)
    restarted = node_names(flow)

    assert renamed == {"first": first, "Ask": second}
    assert rewired == {"first": first, "Ask": third}
    assert restarted == {"Ask": second}
    checkpoint = roundtrip(flow.run({}).checkpoint)
    assert checkpoint["levels"][0]["node"] == "Ask"


def test_engine_resume_against_a_changed_flow_says_so() -> None:
    journal: Journal = []
    checkpoint = roundtrip(nested_flow(journal).run({}).checkpoint)
    changed = nested_flow(journal)
    changed.start_node.successors["default"].start_node.node_id = "ask_v2"

    with pytest.raises(FlowChanged, match=r"flow changed: node 'review_loop/Ask' no longer exists"):
        changed.resume(checkpoint, Decision("approve"))


@pytest.mark.parametrize(
    ("flow_info", "message"),
    [
        ({"id": "other", "version": 1}, "checkpoint is for flow 'other', not 'Flow'"),
        ({"id": "Flow", "version": 2}, "from version 2 of flow 'Flow', newer than this code's"),
    ],
)
def test_engine_resume_refuses_other_flows_and_newer_versions(
    flow_info: dict[str, Any], message: str
) -> None:
    checkpoint = roundtrip(sync_flow([]).run({}).checkpoint)
    checkpoint["flow"] = flow_info

    with pytest.raises(FlowChanged, match=message):
        sync_flow([]).resume(checkpoint, Decision("approve"))


def test_engine_resume_accepts_checkpoints_from_older_versions() -> None:
    journal: Journal = []
    checkpoint = roundtrip(sync_flow(journal).run({}).checkpoint)
    newer = sync_flow(journal)
    newer.flow_version = 2

    assert newer.resume(checkpoint, Decision("approve")) == "published"


def test_engine_suspending_a_non_json_shared_store_names_the_key() -> None:
    with pytest.raises(
        NotSerializable, match=r"shared\['draft'\]\['sock'\] \(object\) is not JSON-serialisable"
    ):
        sync_flow([]).run({"draft": {"text": "ok", "sock": object()}})
    with pytest.raises(NotSerializable, match=r"shared\['bad'\]"):
        start_checkpoint(sync_flow([]), {"bad": {1, 2}})


def test_engine_suspending_a_non_json_wait_payload_or_prep_names_it() -> None:
    class Odd(Node):
        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            return Wait("review", ("approve",), payload={"when": object()})

    class OddPrep(Flow):
        def prep(self, shared: Any) -> Any:
            return {"started": object()}

    with pytest.raises(NotSerializable, match=r"wait payload\['when'\] \(object\)"):
        Flow(start=Odd()).run({})
    with pytest.raises(NotSerializable, match=r"levels\[1\]\['prep'\]\['started'\] \(object\)"):
        Flow(start=OddPrep(start=Ask([]))).run({})


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda cp: cp.pop("status"), "malformed checkpoint: KeyError: 'status'"),
        (lambda cp: cp.pop("shared"), "malformed checkpoint: KeyError: 'shared'"),
        (lambda cp: cp["levels"][0].pop("params"), "malformed checkpoint: KeyError: 'params'"),
        (lambda cp: cp.update(levels=[]), "malformed checkpoint: a waiting run has no levels"),
        (lambda cp: cp.update(levels=None), "malformed checkpoint: a waiting run has no levels"),
        (lambda cp: cp.update(levels=7), "malformed checkpoint: TypeError"),
        (lambda cp: cp.update(status="paused"), "unknown checkpoint status 'paused'"),
        (lambda cp: cp.update(format=2), "unknown checkpoint format 2"),
        (lambda cp: cp["flow"].update(version="1"), "malformed checkpoint: TypeError"),
        (lambda cp: cp.update(wait={"allowed": ["approve"]}), "malformed checkpoint: KeyError"),
    ],
)
def test_engine_resume_refuses_a_malformed_checkpoint_loudly(breakage: Any, message: str) -> None:
    checkpoint = roundtrip(sync_flow([]).run({}).checkpoint)
    breakage(checkpoint)

    with pytest.raises(DurableError, match=re.escape(message)):
        sync_flow([]).resume(checkpoint, Decision("approve"))


@pytest.mark.parametrize("checkpoint", [None, [], "{}"])
async def test_engine_resume_refuses_what_is_not_a_checkpoint(checkpoint: Any) -> None:
    with pytest.raises(DurableError, match="a checkpoint is a JSON object"):
        sync_flow([]).resume(checkpoint)
    with pytest.raises(DurableError, match="a checkpoint is a JSON object"):
        await async_flow([]).resume_async(checkpoint)


def test_engine_wait_needs_survive_the_json_round_trip() -> None:
    wait = Wait("review", ("approve", "edit"), needs={"edit": ("text",)})

    class Edit(Node):
        def post(self, shared: Any, prep_res: Any, exec_res: Any) -> Any:
            return wait

    suspended = Flow(start=Edit()).run({})
    checkpoint = roundtrip(suspended.checkpoint)

    assert checkpoint["wait"]["needs"] == {"edit": ["text"]}
    assert Suspended(checkpoint).wait == wait
    assert Suspended(checkpoint).wait.missing("edit", {"text": " "}) == ("text",)


def test_engine_wait_validates_its_own_fields() -> None:
    with pytest.raises(ValueError, match="at least one allowed decision"):
        Wait("review", ())
    with pytest.raises(ValueError, match="on_timeout 'expire' is not in allowed"):
        Wait("review", ("approve",), timeout_s=60, on_timeout="expire")


@pytest.mark.parametrize("batch", [BatchFlow, AsyncBatchFlow, AsyncParallelBatchFlow])
async def test_engine_wait_in_a_batch_flow_is_an_error(batch: type[BatchFlow]) -> None:
    class Items:
        def prep(self, shared: Any) -> Any:
            return [{"i": 1}]

        async def prep_async(self, shared: Any) -> Any:
            return [{"i": 1}]

    flow = type("Batch", (Items, batch), {})(start=Ask([]))

    async def run() -> Any:
        return await flow.run_async({}) if isinstance(flow, AsyncFlow) else flow.run({})

    with pytest.raises(DurableError, match="a Wait inside a batch flow cannot suspend the run"):
        await run()


# --- effects and the on_step hook -------------------------------------------------------------


class Draft(AsyncNode):
    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        if shared.get("decision", {}).get("action") == "reject":
            shared["rejected"].append(shared["drafts"][-1])
        shared["drafts"].append(f"draft {len(shared['drafts']) + 1}")
        emit(Effect("audit", {"drafted": shared["drafts"][-1]}))
        return "default"


class Review(AsyncNode):
    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        return Wait("review", ("approve", "reject"), payload={"draft": shared["drafts"][-1]})


class Post(AsyncNode):
    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Any:
        emit(Effect("publish", {"text": shared["drafts"][-1]}))
        return "done"


def async_flow(journal: Journal) -> AsyncFlow:
    intake, draft, review = Intake(journal), Draft(), Review()
    inner = AsyncFlow(start=draft)
    inner.node_id = "drafting"
    _ = draft >> review
    review - "reject" >> draft
    review - "approve" >> Post()
    _ = intake >> inner
    inner - "done" >> Discard(journal, action=None)
    return AsyncFlow(start=intake)


async def drive(flow: AsyncFlow, checkpoint: dict[str, Any], decisions: list[str]) -> list[Call]:
    """Resume from ``checkpoint``, deciding each wait in turn; return every on_step call."""
    calls: list[Call] = []

    async def hook(cp: dict[str, Any], effects: list[Effect]) -> None:
        calls.append((roundtrip(cp), [e.to_json() for e in effects]))

    todo = list(decisions)
    while True:
        decision = Decision(todo.pop(0)) if checkpoint["status"] == "waiting" else None
        result = await flow.resume_async(roundtrip(checkpoint), decision, on_step=hook)
        if not isinstance(result, Suspended):
            return calls
        checkpoint = result.checkpoint


def describe(call: Call) -> tuple[str, list[str], list[str]]:
    cp, effects = call
    return cp["status"], [lv.get("node", "?") for lv in cp["levels"]], [e["kind"] for e in effects]


async def test_engine_on_step_sees_every_leaf_the_wait_and_the_end() -> None:
    flow = async_flow([])
    shared: dict[str, Any] = {"drafts": [], "rejected": []}

    calls = await drive(flow, start_checkpoint(flow, shared), ["reject", "approve"])

    assert [describe(c) for c in calls] == [
        ("running", ["Intake"], []),
        ("running", ["drafting", "Draft"], []),
        ("running", ["drafting", "Review"], ["audit"]),  # Draft's effect, with the next call
        ("waiting", ["drafting", "Review"], []),
        ("running", ["drafting", "Draft"], []),
        ("running", ["drafting", "Review"], ["audit"]),
        ("waiting", ["drafting", "Review"], []),
        ("running", ["drafting", "Post"], []),
        ("running", ["Discard"], ["publish"]),
        ("finished", [], []),
    ]
    final = calls[-1][0]
    assert final["result"] is None
    assert final["shared"]["drafts"] == ["draft 1", "draft 2"]
    assert final["shared"]["rejected"] == ["draft 1"]
    assert final["shared"]["steps"] == ["Intake", "Discard"]
    assert calls[3][0]["wait"]["payload"] == {"draft": "draft 1"}


async def test_engine_suspended_run_returns_the_effects_emitted_before_the_wait() -> None:
    result = await async_flow([]).run_async({"drafts": [], "rejected": []})

    assert isinstance(result, Suspended)
    assert result.effects == [Effect("audit", {"drafted": "draft 1"})]


def test_engine_emit_outside_a_run_is_an_error() -> None:
    with pytest.raises(RuntimeError, match=r"emit\(\) called outside a flow run"):
        emit(Effect("publish"))


@pytest.mark.parametrize(
    "decisions", [["approve"], ["reject", "approve"], ["reject", "reject", "approve"]]
)
async def test_engine_resuming_any_intermediate_checkpoint_reaches_the_same_end(
    decisions: list[str],
) -> None:
    # crash recovery: the runtime resumes from the last checkpoint that on_step committed
    flow = async_flow([])
    calls = await drive(flow, start_checkpoint(flow, {"drafts": [], "rejected": []}), decisions)
    waits_before = [sum(c[0]["status"] == "waiting" for c in calls[:i]) for i in range(len(calls))]

    for i, (checkpoint, _) in enumerate(calls[:-1]):
        replay = await drive(flow, checkpoint, decisions[waits_before[i] :])

        if checkpoint["status"] == "waiting":  # the decision arrives after the restart
            assert replay == calls[i + 1 :], f"resuming from call {i}"
        else:  # the node runs again; effects up to i were committed with checkpoint i
            assert replay == [(checkpoint, []), *calls[i + 1 :]], f"resuming from call {i}"


def three_levels(journal: Journal, cls: type[Flow]) -> Any:
    ask = Ask(journal)
    ask - "approve" >> Publish(journal)
    inner = cls(start=ask)
    inner.node_id = "inner"
    inner - "published" >> Discard(journal, action="middle-done")
    middle = cls(start=inner)
    middle.node_id = "middle"
    first = Intake(journal)
    _ = first >> middle
    middle - "middle-done" >> Step(journal, action=None)
    return cls(start=first)


@pytest.mark.parametrize("cls", [Flow, AsyncFlow])
async def test_engine_wait_three_flows_deep_resumes_at_every_level(cls: type[Flow]) -> None:
    journal: Journal = []

    async def run(flow: Any, *args: Any) -> Any:
        if isinstance(flow, AsyncFlow):
            return await (flow.resume_async(*args) if args else flow.run_async({}))
        return flow.resume(*args) if args else flow.run({})

    suspended = await run(three_levels(journal, cls))
    checkpoint = roundtrip(suspended.checkpoint)
    journal.clear()
    result = await run(three_levels(journal, cls), checkpoint, Decision("approve"))

    assert [lv["node"] for lv in checkpoint["levels"]] == ["middle", "inner", "Ask"]
    assert [j for j in journal if not j.startswith("final")] == ["Publish", "Discard", "Step"]
    assert result is None


def test_engine_resume_works_on_the_checkpoints_shared_in_place_like_run() -> None:
    journal: Journal = []
    checkpoint = roundtrip(sync_flow(journal).run({"topic": "cats"}).checkpoint)

    result = sync_flow(journal).resume(checkpoint, Decision("approve"))

    assert not isinstance(result, Suspended)
    assert checkpoint["shared"]["topic"] == "cats"
    assert (
        checkpoint["shared"] != roundtrip(sync_flow([]).run({"topic": "cats"}).checkpoint)["shared"]
    )  # the resumed run wrote into it, as run(shared) writes into the caller's dict
