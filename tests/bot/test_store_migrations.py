"""Schema migrations: ordered, recorded, idempotent; an old database keeps its waits decidable."""

import json
import sqlite3
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.models import DecideStatus
from bot.store import open_store
from bot.store.migrations import LATEST, MIGRATIONS
from bot.store.sqlite import SqliteStore
from flows import Suspended, start
from tests.support.runtime_flows import Drafter, build_review_flow, initial_state
from tests.support.runtime_harness import ALICE, ORIGIN, Harness
from tests.support.runtime_invariants import check_invariants

OLD_WAIT = "0123456789abcdef0123456789abcdef"


def test_migrations_are_ordered_and_consecutive() -> None:
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST + 1))


async def test_reopening_does_not_reapply_migrations(tmp_path: Path) -> None:
    for _ in range(2):
        store = await open_store(f"sqlite:///{tmp_path / 'x.db'}")
        await store.close()

    db = sqlite3.connect(tmp_path / "x.db")
    versions = [v for (v,) in db.execute("SELECT version FROM schema_version ORDER BY version")]
    db.close()
    assert versions == list(range(1, LATEST + 1))


async def test_a_database_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'x.db'}")
    await store.close()
    db = sqlite3.connect(tmp_path / "x.db")
    db.execute("INSERT INTO schema_version VALUES (?, 'future', 0)", (LATEST + 1,))
    db.commit()
    db.close()

    with pytest.raises(RuntimeError, match="newer than this code"):
        await open_store(f"sqlite:///{tmp_path / 'x.db'}")


async def test_unsupported_url_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        await open_store("mysql://nope")


async def _v1_database_with_a_pending_wait(path: Path) -> None:
    """What jokebot with schema v1 left behind: a run paused on a review, card not yet sent."""
    store = await SqliteStore.open(path, target_version=1)
    await store.close()
    flow = build_review_flow(Drafter("An old joke."))
    suspended = await flow.resume_async(start(flow, initial_state(timeout_s=None)))
    assert isinstance(suspended, Suspended)
    cp = suspended.checkpoint
    card = {"token": OLD_WAIT, "card": cp["wait"]["payload"]}
    db = sqlite3.connect(path)
    with db:
        db.execute(
            "INSERT INTO runs (run_id, flow, origin_json, status, cursor, seq, checkpoint_json, "
            "wait_token, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            (
                "old-run",
                "review",
                json.dumps(ORIGIN.to_json()),
                "waiting",
                f"waiting:{OLD_WAIT}",
                3,
                json.dumps(cp),
                OLD_WAIT,
                1.0,
                1.0,
            ),
        )
        db.execute(
            "INSERT INTO waits (token, run_id, seq, kind, allowed_json, payload_json, on_timeout, "
            "status, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            (
                OLD_WAIT,
                "old-run",
                3,
                "review",
                json.dumps(cp["wait"]["allowed"]),
                json.dumps(cp["wait"]["payload"]),
                "timeout",
                "pending",
                1.0,
            ),
        )
        db.execute(
            "INSERT INTO outbox (effect_id, run_id, seq, n, kind, payload_json, dedupe_key, token, "
            "status, next_attempt_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                "old-run:3:0",
                "old-run",
                3,
                0,
                "review.post",
                json.dumps(card),
                "k",
                OLD_WAIT,
                "pending",
                0.0,
                1.0,
                1.0,
            ),
        )
        db.executemany(
            "INSERT INTO audit (run_id, at, actor, event, data_json) VALUES (?,?,?,?,?)",
            [
                ("old-run", 1.0, "x", "run.started", json.dumps({"seq": 0, "status": "running"})),
                (
                    "old-run",
                    1.0,
                    "x",
                    "step",
                    json.dumps(
                        {
                            "seq": 3,
                            "status": "waiting",
                            "wait": OLD_WAIT,
                            "effects": ["old-run:3:0"],
                        }
                    ),
                ),
            ],
        )
    db.close()


async def test_a_pending_wait_from_schema_v1_is_decidable_after_upgrading(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    await _v1_database_with_a_pending_wait(path)
    h = Harness(path)

    await h.boot()  # opens with the latest schema: migrates v1 -> latest
    try:
        await h.drain()
        result = await h.click("old-run", "approve", ALICE)
        await h.drain()
        version = await h.store.schema_version() if h.store else 0
    finally:
        await h.shutdown()

    assert version == LATEST
    assert result is not None
    assert result.status == DecideStatus.APPLIED
    assert [m.payload["text"] for m in h.platform.public_posts("old-run")] == ["An old joke."]
    check_invariants(path, h.platform, drained=True)


async def test_a_review_wait_from_before_v3_still_refuses_an_empty_edit(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    await _v1_database_with_a_pending_wait(path)
    h = Harness(path)

    await h.boot()  # v3 backfills waits.needs_json for the reviews already pending
    try:
        await h.drain()
        empty = await h.click("old-run", "edit", ALICE, text="   ")
        edited = await h.click("old-run", "edit", ALICE, text="A new joke.")
        await h.drain()
    finally:
        await h.shutdown()

    assert empty is not None
    assert empty.status == DecideStatus.INVALID
    assert "text" in empty.message
    assert edited is not None
    assert edited.status == DecideStatus.APPLIED
    assert [m.payload["text"] for m in h.platform.public_posts("old-run")] == ["A new joke."]
