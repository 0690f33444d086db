"""The operations queries of ``Tx`` (health and metrics), on every backend of the contract suite."""

from dataclasses import replace

from bot.store import EffectStatus, Store, WaitStatus
from tests.bot.test_store_contract import a_run, a_wait, an_effect, store

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

    async with store.read() as tx:
        counts = await tx.ops_counts(120.0)

    assert counts.effects == {"pending": 2, "in_flight": 1, "uncertain": 1}
    assert counts.pending_waits == {"review": 1, "retry": 1}
    assert counts.leases == 1
