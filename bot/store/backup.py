"""SQLite backups: an online copy, a checked restore, and a snapshot before every migration.

The copy uses SQLite's online backup API over its own connection, in one step, so it is a
consistent snapshot even while a bot writes (WAL readers never block writers). Every file this
module writes is made next to its destination, checked, fsync'd and renamed into place, and
uses the rollback journal, so a backup is one self-contained file.
"""

import asyncio
import os
import shutil
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from bot.errors import BotError
from bot.store.migrations import LATEST, Migration


class BackupError(BotError):
    """A backup or restore was refused; the message says why and what to do."""


@dataclass(frozen=True)
class Copied:
    """What a backup or restore wrote: the file, its schema version and size."""

    path: Path
    version: int
    size: int
    kept: Path | None = None  # restore: the database that was there before


def backup(db: str | Path, dest: str | Path, *, force: bool = False) -> Copied:
    """Copy the database at ``db`` to ``dest`` (consistent while the bot runs)."""
    db, dest = Path(db), Path(dest)
    if dest.exists() and not force:
        raise BackupError(f"{dest} exists; choose another name or pass --force to overwrite it")
    with closing(_open(db, "rw")) as source:
        version = _copy(source, dest)
    return Copied(dest, version, dest.stat().st_size)


def restore(backup_file: str | Path, db: str | Path, *, force: bool = False) -> Copied:
    """Put ``backup_file`` in place of ``db``, keeping the old file as ``<db>.before-restore``.

    Refused when the backup is not a jokebot database, is damaged, has a newer schema than this
    code, or when ``db`` is open anywhere (this process or another: stop the bot first).
    """
    backup_file, db = Path(backup_file), Path(db)
    kept = db.with_name(db.name + ".before-restore")
    if kept.exists() and not force:
        raise BackupError(f"{kept} exists from an earlier restore; move it away or pass --force")
    with closing(_open(backup_file, "ro")) as source:
        _check(source, backup_file)
        staged = db.with_name(db.name + ".restoring")
        version = _copy(source, staged)
    try:
        if db.exists():
            _settle_unused(db)
            _keep(db, kept)
        os.replace(staged, db)  # atomic: the database path always holds one whole file
    finally:
        staged.unlink(missing_ok=True)
    _fsync_dir(db.parent)
    return Copied(db, version, db.stat().st_size, kept if kept.exists() else None)


async def snapshot_before_migrating(path: str, current: int, steps: Sequence[Migration]) -> None:
    """Before migrating an existing database, keep a copy as ``<db>.pre-v<N>.bak``.

    N is the version the migration goes to. A new database (version 0) needs none; an
    existing snapshot is kept (an earlier, failed attempt took it). A snapshot that cannot be
    written stops the migration.
    """
    if current == 0 or not steps or path == ":memory:":
        return
    dest = Path(f"{path}.pre-v{steps[-1].version}.bak")
    await asyncio.to_thread(_snapshot, Path(path), dest)


def _snapshot(db: Path, dest: Path) -> None:
    if not dest.exists():
        backup(db, dest)


def _open(path: Path, mode: str) -> sqlite3.Connection:
    if not path.is_file():
        raise BackupError(f"no database at {path}")
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode={mode}", uri=True, timeout=10)


def _copy(source: sqlite3.Connection, dest: Path) -> int:
    """Back ``source`` up into ``dest`` (checked, rollback journal, fsync'd); its version."""
    tmp = dest.with_name(f"{dest.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    try:
        with closing(sqlite3.connect(tmp, isolation_level=None)) as target:
            source.backup(target)  # pages=-1: one step, one consistent read transaction
            target.execute("PRAGMA journal_mode=DELETE")
            _check(target, dest)
            version = _version(target)
        with open(tmp, "rb+") as copied:
            os.fsync(copied.fileno())
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(dest.parent)
    return version


def _check(conn: sqlite3.Connection, name: Path) -> None:
    try:
        verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        version = _version(conn)
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{name} is not a readable SQLite database ({exc})") from None
    if verdict != "ok":
        raise BackupError(f"{name} is damaged: {verdict}")
    if version == 0:
        raise BackupError(f"{name} is not a jokebot database (no schema_version)")
    if version > LATEST:
        raise BackupError(f"{name} has schema v{version}, newer than this jokebot (v{LATEST})")


def _version(conn: sqlite3.Connection) -> int:
    tables = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchall()
    if not tables:
        return 0
    return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])


def _settle_unused(db: Path) -> None:
    """Fold the WAL into ``db`` and leave it one file; refuse if any connection has it open."""
    try:
        with closing(sqlite3.connect(db, timeout=0, isolation_level=None)) as conn:
            mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    except sqlite3.OperationalError as exc:
        mode = str(exc)
    if mode != "delete":  # leaving WAL mode needs every other connection closed
        raise BackupError(f"{db} is in use ({mode}); stop every jokebot process on it first")
    for leftover in ("-wal", "-shm"):  # nobody has it open: these belong to the old file
        db.with_name(db.name + leftover).unlink(missing_ok=True)


def _keep(db: Path, kept: Path) -> None:
    """Keep the current file as ``kept`` (a hard link: the old file stays whole)."""
    kept.unlink(missing_ok=True)
    try:
        os.link(db, kept)
    except OSError:  # no hard links on this file system
        shutil.copy2(db, kept)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
