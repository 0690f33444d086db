"""The doctor queries and repairs of ``Tx``, on every backend of the contract suite."""

from dataclasses import replace

from bot.models import ScopeConfig
from bot.store import EffectStatus, RunStatus, Store
from tests.bot.test_store_contract import a_run, an_effect, store

__all__ = ["store"]  # the contract suite's parametrised fixture: every backend


async def test_store_stale_leases_are_expired_leases_of_runnable_runs(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_run(a_run("expired", runner_id="gone", lease_until=50.0))
        await tx.insert_run(a_run("live", runner_id="here", lease_until=150.0))
        await tx.insert_run(a_run("free"))
        await tx.insert_run(
            a_run("over", status=RunStatus.FINISHED, runner_id="gone", lease_until=10.0)
        )

    async with store.read() as tx:
        stale = await tx.stale_leases(100.0, 10)

    assert [(r.run_id, r.runner_id) for r in stale] == [("expired", "gone")]


async def test_store_release_lease_is_compare_and_set(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_run(a_run("r1", runner_id="gone", lease_until=50.0))
        moved_on = await tx.release_lease("r1", "gone", 60.0)  # renewed since it was read
        other = await tx.release_lease("r1", "someone", 50.0)
        released = await tx.release_lease("r1", "gone", 50.0)
        again = await tx.release_lease("r1", "gone", 50.0)
        run = await tx.get_run("r1")

    assert (moved_on, other, released, again) == (False, False, True, False)
    assert run is not None
    assert (run.runner_id, run.lease_until) == (None, None)


async def test_store_stuck_runs_are_runnable_runs_not_updated_since(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_run(a_run("old", updated_at=5.0))
        await tx.insert_run(a_run("new", updated_at=500.0))
        await tx.insert_run(a_run("waiting", status=RunStatus.WAITING, updated_at=1.0))

    async with store.read() as tx:
        stuck = await tx.stuck_runs(100.0, 10)

    assert [r.run_id for r in stuck] == ["old"]


async def test_store_effects_with_status_and_retry_effect(store: Store) -> None:
    uncertain = replace(an_effect("a", 1, 0), status=EffectStatus.UNCERTAIN, created_at=2.0)
    failed = replace(
        an_effect("a", 1, 1), status=EffectStatus.FAILED, created_at=1.0, claimed_by="x"
    )
    async with store.transaction() as tx:
        await tx.insert_effects([uncertain, failed, an_effect("b", 1, 0)])
        listed = await tx.effects_with_status(EffectStatus.FAILED, 10)
        wrong = await tx.retry_effect("a:1:0", EffectStatus.FAILED, 99.0)
        retried = await tx.retry_effect("a:1:1", EffectStatus.FAILED, 99.0)
        twice = await tx.retry_effect("a:1:1", EffectStatus.FAILED, 99.0)
        row = await tx.get_effect("a:1:1")
        still = await tx.effects_with_status(EffectStatus.UNCERTAIN, 10)

    assert [e.effect_id for e in listed] == ["a:1:1"]
    assert (wrong, retried, twice) == (False, True, False)
    assert row is not None
    assert (row.status, row.next_attempt_at, row.claimed_by) == (EffectStatus.PENDING, 99.0, None)
    assert [e.effect_id for e in still] == ["a:1:0"]


async def test_store_scopes_lists_one_platform(store: Store) -> None:
    b = ScopeConfig("discord", "2", "m2", "p2", "r2")
    a = ScopeConfig("discord", "1", "m1", "p1", "r1")
    await store.save_scope(b)
    await store.save_scope(a)
    await store.save_scope(ScopeConfig("slack", "T1", "C1", "C2", ""))

    async with store.read() as tx:
        found = await tx.scopes("discord")

    assert found == [a, b]
