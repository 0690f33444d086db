"""``jokebot doctor``'s store check and repairs on every backend, and its config findings."""

from dataclasses import replace

from bot.config import load_settings
from bot.doctor import StoreCheck, config_findings, exit_status, run_doctor
from bot.models import Level
from bot.store import EffectStatus, RunStatus, Store
from bot.store.migrations import LATEST
from tests.bot.test_store_contract import a_run, an_effect, store

__all__ = ["store"]  # the contract suite's parametrised fixture: every backend

NOW = 1000.0


async def seed(store: Store) -> None:
    """A stale lease, an uncertain effect and a failed one."""
    async with store.transaction() as tx:
        await tx.insert_run(a_run("r1", runner_id="host:1", lease_until=NOW - 30, updated_at=NOW))
        await tx.insert_run(a_run("r2", status=RunStatus.FINISHED, updated_at=NOW))
        uncertain = replace(
            an_effect("r2", 1, 0), status=EffectStatus.UNCERTAIN, last_error="lost answer"
        )
        failed = replace(an_effect("r2", 1, 1), status=EffectStatus.FAILED, last_error="403")
        await tx.insert_effects([uncertain, failed])


def doctor(store: Store, *not_posted: str) -> StoreCheck:
    return StoreCheck(store, lambda: NOW, stuck_s=600.0, not_posted=not_posted)


async def test_doctor_store_all_good(store: Store) -> None:
    found = await doctor(store).check()

    assert [(f.level, f.message) for f in found] == [
        (Level.OK, f"schema v{LATEST} (latest); no stuck work")
    ]


async def test_doctor_store_reports_each_seeded_fault_with_its_fix(store: Store) -> None:
    await seed(store)

    found = {f.message: f for f in await doctor(store).check()}

    lease = found["run r1: the lease of host:1 expired 30 s ago"]
    assert (lease.level, lease.fix.startswith("jokebot doctor --fix")) == (Level.WARN, True)
    uncertain = found["effect r2:1:0 (notify) is uncertain: lost answer"]
    assert uncertain.level is Level.WARN
    assert uncertain.fix.endswith("jokebot doctor --fix --yes-not-posted r2:1:0")
    failed = found["effect r2:1:1 (notify) failed: 403"]
    assert failed.level is Level.ERROR
    assert exit_status(list(found.values())) == 1


async def test_doctor_fix_releases_retries_failed_and_leaves_uncertain_alone(
    store: Store,
) -> None:
    await seed(store)

    found = await run_doctor([doctor(store)], fix=True)

    messages = [f.message for f in found]
    assert messages[:2] == ["released run r1's expired lease (host:1)", "retrying r2:1:1"]
    assert not any("stale" in m or "lease of" in m or "failed:" in m for m in messages[2:])
    async with store.read() as tx:
        run = await tx.get_run("r1")
        uncertain = await tx.get_effect("r2:1:0")
        failed = await tx.get_effect("r2:1:1")
        audit = [(a.run_id, a.actor, a.event) for a in await tx.audit()]
    assert run is not None
    assert run.runner_id is None
    assert uncertain is not None
    assert uncertain.status is EffectStatus.UNCERTAIN
    assert failed is not None
    assert (failed.status, failed.next_attempt_at) == (EffectStatus.PENDING, NOW)
    assert audit == [
        ("r1", "system:doctor", "doctor.lease_released"),
        ("r2", "system:doctor", "doctor.effect_retried"),
    ]


async def test_doctor_retries_an_uncertain_effect_only_once_confirmed(store: Store) -> None:
    await seed(store)

    done = await doctor(store, "r2:1:0", "nope").fix()

    assert [(f.level, f.message) for f in done][-2:] == [
        (Level.OK, "retrying r2:1:0 (confirmed not posted)"),
        (Level.WARN, "nope is not an uncertain effect; left alone"),
    ]
    async with store.read() as tx:
        effect = await tx.get_effect("r2:1:0")
        audit = [a.data for a in await tx.audit("r2") if a.data.get("confirmed_not_posted")]
    assert effect is not None
    assert effect.status is EffectStatus.PENDING
    assert audit == [{"effect_id": "r2:1:0", "kind": "notify", "confirmed_not_posted": True}]


def test_doctor_config_findings() -> None:
    nothing = config_findings(load_settings(_env_file=None))
    half_slack = config_findings(load_settings(_env_file=None, slack_bot_token="xoxb-1"))  # noqa: S106

    assert [f.level for f in nothing] == [Level.WARN]
    assert [f.message for f in half_slack] == [
        "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET",
        "SLACK_MOD_CHANNEL is not set",
        "SLACK_PUBLIC_CHANNEL is not set",
    ]
