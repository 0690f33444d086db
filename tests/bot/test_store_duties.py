"""Singleton duty leases (``Tx.claim_duty``), on every backend of the contract suite."""

from bot.store import DutyRow, Store
from tests.bot.test_store_contract import store

__all__ = ["store"]  # the contract suite's parametrised fixture: every backend


async def claim(store: Store, holder: str, now: float, until: float, name: str = "timers") -> bool:
    async with store.transaction() as tx:
        return await tx.claim_duty(name, holder, now, until)


async def holder_of(store: Store, name: str = "timers") -> DutyRow | None:
    async with store.read() as tx:
        return await tx.duty(name)


async def test_store_a_free_duty_is_claimed_and_a_held_one_is_refused(store: Store) -> None:
    first = await claim(store, "bot-1", 100.0, 130.0)
    second = await claim(store, "bot-2", 110.0, 140.0)

    assert (first, second) == (True, False)
    assert await holder_of(store) == DutyRow("timers", "bot-1", 130.0)


async def test_store_the_holder_renews_its_duty(store: Store) -> None:
    await claim(store, "bot-1", 100.0, 130.0)

    renewed = await claim(store, "bot-1", 120.0, 150.0)

    assert renewed
    assert await holder_of(store) == DutyRow("timers", "bot-1", 150.0)


async def test_store_an_expired_duty_is_taken_over_and_the_old_holder_is_fenced(
    store: Store,
) -> None:
    await claim(store, "bot-1", 100.0, 130.0)

    taken = await claim(store, "bot-2", 131.0, 161.0)
    late_renewal = await claim(store, "bot-1", 132.0, 162.0)

    assert (taken, late_renewal) == (True, False)
    assert await holder_of(store) == DutyRow("timers", "bot-2", 161.0)


async def test_store_a_lease_is_live_until_its_last_instant(store: Store) -> None:
    await claim(store, "bot-1", 100.0, 130.0)

    assert not await claim(store, "bot-2", 130.0, 160.0)  # lease_until is still ours


async def test_store_releasing_a_duty_frees_it_only_for_its_holder(store: Store) -> None:
    await claim(store, "bot-1", 100.0, 130.0)
    async with store.transaction() as tx:
        by_other = await tx.release_duty("timers", "bot-2")
        by_holder = await tx.release_duty("timers", "bot-1")
        again = await tx.release_duty("timers", "bot-1")

    assert (by_other, by_holder, again) == (False, True, False)
    assert await holder_of(store) is None
    assert await claim(store, "bot-2", 101.0, 131.0)


async def test_store_duties_are_independent(store: Store) -> None:
    await claim(store, "bot-1", 100.0, 130.0, name="timers")

    assert await claim(store, "bot-2", 100.0, 130.0, name="prune")
    assert await holder_of(store, "prune") == DutyRow("prune", "bot-2", 130.0)
    assert await holder_of(store, "nothing") is None
