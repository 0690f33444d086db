"""SQLite data safety: online backup, checked restore, snapshots before migrations, the CLI."""

import sqlite3
from pathlib import Path

import pytest

from bot.cli import main
from bot.models import Actor, DecideStatus, DecisionRequest, JokeRequest, Origin, ScopeConfig
from bot.store.backup import BackupError, backup, restore
from bot.store.migrations import LATEST
from bot.store.sqlite import SqliteStore
from tests.support.llm import FakeLLM
from tests.support.platform import FakePlatform
from tests.support.stack import Stack, joke_stack

MOD = Actor("fake", "m1", "@mod", is_moderator=True)
ORIGIN = Origin("fake", "g1", Actor("fake", "u1", "@ann"), "", "", "general")


async def pending_review(stack: Stack, platform: FakePlatform, key: str = "fake:1") -> str:
    """A request whose card is posted and waits for a moderator; the card's token."""
    await stack.service.save_scope(ScopeConfig("fake", "g1", "mods", "fun"))
    await stack.service.request_joke(JokeRequest(key, ORIGIN, "cats"))
    await stack.drain()
    token = platform.latest_token(key)
    assert token is not None
    return token


def version(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return int(db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0])


async def test_backup_restore_keeps_a_pending_review_decidable_and_published_once(
    tmp_path: Path,
) -> None:
    copy = tmp_path / "copy.db"
    async with joke_stack(tmp_path, llm=FakeLLM("Why? Because."), serve=False) as stack:
        platform = FakePlatform(stack.clock)
        stack.register("fake", platform)
        token = await pending_review(stack, platform)
        made = backup(stack.db_path, copy)  # while the bot runs
        await pending_review(stack, platform, "fake:2")  # after the backup: lost by the restore
        await stack.stop()
        restored = restore(copy, stack.db_path)
        await stack.start()
        approved = await stack.service.decide(DecisionRequest(token, "approve", MOD, "i1"))
        await stack.drain()
        twice = await stack.service.decide(DecisionRequest(token, "approve", MOD, "i2"))
        await stack.drain()
        later = await stack.service.run_status("fake:2")

    assert (made.version, restored.version) == (LATEST, LATEST)
    assert restored.kept == tmp_path / "jokebot.db.before-restore"
    assert approved.status == DecideStatus.APPLIED
    assert twice.status == DecideStatus.STALE  # the run has finished
    assert [m.payload["text"] for m in platform.public_posts()] == ["Why? Because."]
    assert platform.cards("fake:1")[0].edits  # the card shows the outcome
    assert later is None


async def test_backup_refuses_to_overwrite_unless_forced(tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    copy.write_text("precious")
    async with joke_stack(tmp_path, llm=FakeLLM()) as stack:
        with pytest.raises(BackupError, match="--force"):
            backup(stack.db_path, copy)
        forced = backup(stack.db_path, copy, force=True)

    assert forced.size == copy.stat().st_size
    assert version(copy) == LATEST
    assert [p.name for p in tmp_path.glob("copy.db*")] == ["copy.db"]  # one self-contained file


async def test_restore_refuses_while_the_database_is_open(tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    async with joke_stack(tmp_path, llm=FakeLLM()) as stack:
        backup(stack.db_path, copy)
        with pytest.raises(BackupError, match="in use"):
            restore(copy, stack.db_path)

    assert not (tmp_path / "jokebot.db.before-restore").exists()


@pytest.mark.parametrize(
    ("prepare", "message"),
    [
        ("newer", "newer than this jokebot"),
        ("foreign", "not a jokebot database"),
        ("garbage", "not a readable SQLite database"),
        ("missing", "no database at"),
    ],
)
async def test_restore_refuses_a_backup_it_cannot_trust(
    tmp_path: Path, prepare: str, message: str
) -> None:
    db, copy = tmp_path / "jokebot.db", tmp_path / "copy.db"
    store = await SqliteStore.open(db)
    await store.close()
    if prepare == "newer":
        backup(db, copy)
        with sqlite3.connect(copy) as conn:
            conn.execute("INSERT INTO schema_version VALUES (?, 'future', 0)", (LATEST + 1,))
    elif prepare == "foreign":
        with sqlite3.connect(copy) as conn:
            conn.execute("CREATE TABLE notes (x)")
    elif prepare == "garbage":
        copy.write_bytes(b"this is not SQLite" * 100)

    with pytest.raises(BackupError, match=message):
        restore(copy, db)

    assert version(db) == LATEST  # untouched


async def test_migrating_an_existing_database_keeps_a_snapshot_of_each_version_first(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.db"
    for target in (1, 2, LATEST, LATEST):  # an old database, upgraded twice, then reopened
        store = await SqliteStore.open(db, target_version=target)
        await store.close()
    fresh = await SqliteStore.open(tmp_path / "new.db")
    await fresh.close()

    snapshots = sorted(p.name for p in tmp_path.glob("*.bak"))
    # new.db: none (sorted as text: pre-v10 sorts before pre-v2)
    assert snapshots == sorted(["old.db.pre-v2.bak", f"old.db.pre-v{LATEST}.bak"])
    assert version(tmp_path / "old.db.pre-v2.bak") == 1
    assert version(tmp_path / f"old.db.pre-v{LATEST}.bak") == 2
    assert version(db) == LATEST


def test_backup_and_restore_commands(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'jokebot.db'}")
    assert main(["init-db"]) == 0

    made = main(["backup", "b.db"])
    refused = main(["backup", "b.db"])
    forced = main(["backup", "b.db", "--force"])
    restored = main(["restore", "b.db"])
    out, err = capsys.readouterr()
    monkeypatch.setenv("DATABASE_URL", "postgresql://bot@db/jokebot")
    other = main(["backup", "b.db"])

    assert (made, refused, forced, restored) == (0, 1, 0, 0)
    assert f"schema v{LATEST}" in out
    assert "--force" in err
    assert (tmp_path / "jokebot.db.before-restore").exists()
    assert other == 2
    assert "pg_dump" in capsys.readouterr().err
