"""The operations queries of ``Tx`` (health and metrics), on every backend of the contract suite."""

from dataclasses import replace

from bot.store import AuditRow, EffectStatus, InboxRow, RunStatus, Store, WaitStatus
from tests.bot.test_store_contract import a_request, a_run, a_wait, an_effect, store

__all__ = ["store"]  # the contract suite's parametrised fixture: every backend


async def test_store_oldest_open_effect_skips_closed_ones(store: Store) -> None:
    old_done = replace(an_effect("a", 1, 0), status=EffectStatus.DONE, created_at=1.0)
    old_uncertain = replace(an_effect("a", 1, 1), status=EffectStatus.UNCERTAIN, created_at=2.0)
    in_flight = replace(an_effect("b", 1, 0), status=EffectStatus.IN_FLIGHT, created_at=5.0)
    pending = replace(an_effect("c", 1, 0), created_at=7.0)
    async with store.read() as tx:
        empty = await tx.oldest_open_effect()
    async with store.transaction() as tx:
        await tx.insert_effects([pending, old_done, old_uncertain, in_flight])

    async with store.read() as tx:
        oldest = await tx.oldest_open_effect()

    assert empty is None
    assert oldest is not None
    assert (oldest.effect_id, oldest.status) == ("b:1:0", EffectStatus.IN_FLIGHT)


async def test_store_ops_counts_effects_waits_and_live_leases(store: Store) -> None:
    effects = [
        an_effect("a", 1, 0),
        replace(an_effect("a", 1, 1), status=EffectStatus.DONE),
        replace(an_effect("a", 1, 2), status=EffectStatus.UNCERTAIN),
        replace(an_effect("a", 1, 3), status=EffectStatus.IN_FLIGHT),
        an_effect("b", 1, 0),
    ]
    decided = replace(a_wait("t2"), status=WaitStatus.DECIDED)
    retry = replace(a_wait("t3"), kind="retry")
    async with store.transaction() as tx:
        for run_id in ("r1", "r2", "r3"):
            await tx.insert_run(a_run(run_id))
        await tx.claim_run("r1", "a", now=100.0, until=130.0)
        await tx.claim_run("r2", "b", now=100.0, until=110.0)  # expired by 120
        await tx.insert_effects(effects)
        for wait in (a_wait("t1"), decided, retry):
            await tx.insert_wait(wait)
        for n in range(3):
            await tx.insert_request(a_request(f"q{n}"))
        await tx.admit_request("q0", 110.0)

    async with store.read() as tx:
        counts = await tx.ops_counts(120.0)

    assert counts.effects == {"pending": 2, "in_flight": 1, "uncertain": 1}
    assert counts.pending_waits == {"review": 1, "retry": 1}
    assert counts.leases == 1
    assert counts.queued == 2


async def test_store_prune_runs_deletes_old_ended_runs_with_every_row(store: Store) -> None:
    old = [a_run(f"old{i}", status=RunStatus.FINISHED, updated_at=50.0) for i in range(3)]
    runs = [
        *old,
        a_run("failed", status=RunStatus.FAILED, updated_at=50.0),
        a_run("delivering", status=RunStatus.FINISHED, updated_at=50.0),  # an open effect
        a_run("recent", status=RunStatus.FINISHED, updated_at=150.0),
        a_run("waiting", status=RunStatus.WAITING, updated_at=50.0),
        a_run("old1x", status=RunStatus.FINISHED, updated_at=500.0),  # shares a prefix
    ]
    async with store.transaction() as tx:
        for run in runs:
            await tx.insert_run(run)
            await tx.insert_wait(a_wait(f"t-{run.run_id}", run.run_id))
            await tx.insert_inbox(InboxRow("fake", f"i-{run.run_id}", f"t-{run.run_id}", 1.0))
            done = replace(an_effect(run.run_id, 1, 0), status=EffectStatus.DONE)
            await tx.insert_effects([done])
            await tx.add_audit([AuditRow(run.run_id, 1.0, "x", "run.started")])
        await tx.insert_effects([an_effect("delivering", 2, 0)])

    async with store.transaction() as tx:
        first = await tx.prune_runs(100.0, 2)
        rest = await tx.prune_runs(100.0, 10)
    async with store.read() as tx:
        left = [r.run_id for r in runs if await tx.get_run(r.run_id) is not None]
        audited = sorted({a.run_id for a in await tx.audit()})
        waits = [r.run_id for r in runs if await tx.get_wait(f"t-{r.run_id}") is not None]
        clicks = [r.run_id for r in runs if await tx.get_inbox("fake", f"i-{r.run_id}")]
        effects = [r.run_id for r in runs if await tx.get_effect(f"{r.run_id}:1:0")]

    kept = ["delivering", "recent", "waiting", "old1x"]
    assert (first, rest) == (2, 2)
    assert left == waits == clicks == effects == kept
    assert audited == sorted(kept)
