"""``/joke status`` read from the store: each request placed by its run, over each backend."""

from dataclasses import replace

from bot.models import Actor, Admitted, Stage, StatusReport
from bot.runtime import Runtime
from bot.status import RECENT_S, status_of
from bot.store import Store
from tests.support.runtime_flows import initial_state
from tests.support.runtime_harness import ALICE, ORIGIN, Harness

ME = Actor("fake", "u1", "@u1")


async def ask(rt: Runtime, run_id: str, user: Actor = ME) -> Admitted:
    return await rt.request_run(
        "review",
        run_id,
        replace(ORIGIN, requester=user),
        initial_state(run_id, timeout_s=3600.0, max_attempts=1),
        topic=f"about {run_id}",
        cooldown_s=30.0,
        max_active=1,
    )


async def report(h: Harness) -> StatusReport:
    assert h.store is not None
    return await status_of(h.store, ME.ref, h.clock.now(), 30.0)


def stages(r: StatusReport) -> list[tuple[str, Stage, int]]:
    return [(v.topic, v.stage, v.position) for v in r.requests]


async def test_status_follows_each_request_from_the_line_to_its_outcome(h: Harness) -> None:
    start = h.clock.now()
    await ask(h.rt, "r1")
    h.clock.advance(30)
    await ask(h.rt, "r2")
    await ask(h.rt, "r0", Actor("fake", "u2", "@u2"))  # someone else's, behind r2

    queued = await report(h)
    await h.drain()
    in_review = await report(h)
    await h.click("r1", "approve", ALICE)
    await h.drain()
    decided = await report(h)
    h.clock.advance(3600)
    await h.drain()  # r2's review times out; r0 gets the slot
    expired = await report(h)
    h.clock.advance(RECENT_S + 1)
    forgotten = await report(h)

    assert stages(queued) == [("about r2", Stage.QUEUED, 1), ("about r1", Stage.DRAFTING, 0)]
    assert queued.next_request_at == start + 60.0
    assert stages(in_review) == [("about r2", Stage.QUEUED, 1), ("about r1", Stage.IN_REVIEW, 1)]
    assert stages(decided) == [("about r2", Stage.IN_REVIEW, 1), ("about r1", Stage.APPROVED, 0)]
    assert decided.requests[1].at == start + 30.0  # when it was decided
    assert stages(expired) == [("about r2", Stage.EXPIRED, 0), ("about r1", Stage.APPROVED, 0)]
    assert (forgotten.requests, forgotten.next_request_at) == ((), 0.0)


async def test_status_counts_the_review_queue_of_the_scope_oldest_first(h: Harness) -> None:
    other = Actor("fake", "u2", "@u2")
    for n, who in enumerate((other, other, ME)):
        await h.rt.request_run(
            "review",
            f"r{n}",
            replace(ORIGIN, requester=who),
            initial_state(f"r{n}"),
            topic=f"t{n}",
        )
        h.clock.advance(1)
    await h.drain()

    mine = await report(h)

    assert stages(mine) == [("t2", Stage.IN_REVIEW, 3)]


async def test_status_of_a_rejected_and_a_failed_request(h: Harness) -> None:
    await ask(h.rt, "r1")
    await h.drain()
    await h.click("r1", "reject", ALICE)  # max_attempts=1: no new draft
    await h.drain()
    h.clock.advance(30)
    await ask(h.rt, "r2")
    await h.drain()
    store: Store | None = h.store
    assert store is not None
    async with store.transaction() as tx:
        run = await tx.get_run("r2")
        assert run is not None
        run.status = run.status.FAILED
        await tx.save_run(run, expect_seq=run.seq, expect_runner=None)

    r = await report(h)

    assert stages(r) == [("about r2", Stage.FAILED, 0), ("about r1", Stage.REJECTED, 0)]
