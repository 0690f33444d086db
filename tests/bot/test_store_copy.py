"""``jokebot migrate-store``: a SQLite database moves into an empty PostgreSQL one and the bot
carries on there — a pending review stays decidable and its joke is posted once.
"""

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from bot.models import DecideStatus, ScopeConfig
from bot.store.migrations import LATEST
from tests.support.db import rows
from tests.support.postgres import scratch_schema_sync
from tests.support.runtime_harness import ALICE, Harness
from tests.support.runtime_invariants import check_invariants

pytestmark = pytest.mark.postgres


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env is read


@pytest.fixture
def pg_url() -> Iterator[str]:
    with scratch_schema_sync() as url:
        yield url


async def a_bot_with_history(h: Harness) -> None:
    """Run 1 published, run 2 pending review, run 3 approved with its post still in the outbox."""
    await h.boot()
    assert h.store is not None
    await h.store.save_scope(ScopeConfig("fake", "scope1", "mods", "jokes", "role"))
    for n in (1, 2, 3):
        await h.start(n)
    await h.drain()
    await h.click("run-1", "approve", ALICE)
    await h.drain()
    h.platform.outage(1, kind="publish")
    await h.click("run-3", "approve", ALICE)
    await h.drain()  # run-3's publish failed once and waits in backoff
    await h.shutdown()


async def carry_on_postgres(h: Harness, url: str) -> DecideStatus | None:
    h.path = url
    await h.boot()
    try:
        h.clock.advance(60)
        result = await h.click("run-2", "approve", ALICE)
        await h.drain()
    finally:
        await h.shutdown()
    return None if result is None else result.status


def test_migrate_store_moves_a_live_bot_to_postgres(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "old.db"
    h = Harness(db)
    asyncio.run(a_bot_with_history(h))
    before = {t: len(rows(db, f"SELECT * FROM {t}")) for t in ("runs", "waits", "audit")}  # noqa: S608

    status = main(["migrate-store", f"sqlite:///{db}", pg_url])

    out = capsys.readouterr().out
    assert status == 0, out
    assert all(f"{t:<8} {n:>9} rows" in out for t, n in before.items()), out
    assert f"{'scopes':<8} {1:>9} rows" in out
    assert asyncio.run(carry_on_postgres(h, pg_url)) == DecideStatus.APPLIED
    assert [len(h.platform.public_posts(f"run-{n}")) for n in (1, 2, 3)] == [1, 1, 1]
    check_invariants(pg_url, h.platform, drained=True)


def test_migrate_store_refuses_a_target_that_is_not_empty(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "old.db"
    h = Harness(db)
    asyncio.run(a_bot_with_history(h))
    assert main(["migrate-store", f"sqlite:///{db}", pg_url]) == 0
    audit = rows(pg_url, "SELECT COUNT(*) AS n FROM audit")

    status = main(["migrate-store", f"sqlite:///{db}", pg_url])

    err = capsys.readouterr().err
    assert status == 2
    assert "is not empty (runs 3" in err
    assert "Traceback" not in err
    assert rows(pg_url, "SELECT COUNT(*) AS n FROM audit") == audit


@pytest.mark.parametrize(
    ("src", "dst", "named"),
    [
        ("postgresql://x@h/db", "postgresql://x@h/db", "SRC must be a sqlite"),
        ("sqlite:///missing.db", "postgresql://x@h/db", "no SQLite database at missing.db"),
    ],
)
def test_migrate_store_names_a_bad_argument(
    src: str, dst: str, named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate-store", src, dst]) == 2
    assert named in capsys.readouterr().err


def test_init_db_on_postgres(
    pg_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", pg_url)

    status = main(["init-db"])

    assert status == 0
    assert f"schema version {LATEST}" in capsys.readouterr().out
