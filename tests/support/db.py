"""Raw SQL against a test database of either backend, for checks that look past the Store.

A target is a SQLite file (``Path``) or a database URL (``sqlite:///…`` or ``postgresql://…``).
Statements are written with ``?`` placeholders; for PostgreSQL they become ``%s``.
"""

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row

from bot.store import is_postgres

Target = Path | str
Row = dict[str, Any]


def url_of(target: Target) -> str:
    """The database URL of ``target``."""
    return f"sqlite:///{target}" if isinstance(target, Path) else target


def _sqlite_path(target: Target) -> str:
    return str(target) if isinstance(target, Path) else target.removeprefix("sqlite:///")


def rows(target: Target, sql: str, *params: Any) -> list[Row]:
    """Every row of ``sql`` as a dict, read on a fresh read-only connection."""
    return snapshot(target, [(sql, params)])[0]


def snapshot(target: Target, queries: list[tuple[str, tuple[Any, ...]]]) -> list[list[Row]]:
    """The rows of each query, all read in one read-only transaction (one consistent view)."""
    url = url_of(target)
    if is_postgres(url):
        with psycopg.connect(url, row_factory=dict_row) as conn:
            conn.read_only = True
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with conn.transaction():
                return [list(conn.execute(_pg(sql, ps), ps or None)) for sql, ps in queries]
    db = sqlite3.connect(f"file:{_sqlite_path(target)}?mode=ro", uri=True)
    db.row_factory = sqlite3.Row
    try:
        db.execute("BEGIN")
        return [[dict(r) for r in db.execute(sql, ps)] for sql, ps in queries]
    finally:
        db.close()


def _pg(sql: str, params: tuple[Any, ...]) -> bytes:
    """``?`` placeholders as ``%s``; without parameters the text goes as is (``LIKE 'a%'``)."""
    return (sql.replace("?", "%s") if params else sql).encode()  # SQL the tests wrote


def execute(target: Target, sql: str, *params: Any) -> None:
    """Run one writing statement and commit it."""
    url = url_of(target)
    if is_postgres(url):
        with psycopg.connect(url) as conn:
            conn.execute(_pg(sql, params), params or None)
        return
    db = sqlite3.connect(_sqlite_path(target))
    try:
        with db:
            db.execute(sql, params)
    finally:
        db.close()
