"""A scratch PostgreSQL schema per test: reachability check, schema isolation, teardown.

The server is ``TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``).
Other test runs share that database, so every test gets its own ``jk_<random>`` schema, named
in the URL's ``search_path``, and drops it afterwards. Without a server the Postgres half of a
test is skipped with the reason shown, except under ``CI=true``, where it fails.
"""

import functools
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from urllib.parse import quote

import psycopg
import pytest

from bot.store.postgres import where

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    """The PostgreSQL server the tests use."""
    return os.environ.get("TEST_POSTGRES_URL") or DEFAULT_URL


@functools.cache
def _unreachable(url: str) -> str | None:
    """Why ``url`` cannot be used, or None if a connection works (checked once per run)."""
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def require_postgres() -> str:
    """The server URL; skip (fail under CI=true) the calling test when there is no server."""
    url = server_url()
    problem = _unreachable(url)
    if problem is not None:
        where_ = where(url)  # never the password
        reason = f"no PostgreSQL at {where_}: start it or set TEST_POSTGRES_URL ({problem})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return url


def in_schema(url: str, schema: str) -> str:
    """``url`` with its ``search_path`` set to ``schema`` (a libpq ``options`` parameter)."""
    options = quote(f"-csearch_path={schema}", safe="")
    return f"{url}{'&' if '?' in url else '?'}options={options}"


@contextmanager
def scratch_schema_sync() -> Iterator[str]:
    """A URL whose search_path is a fresh schema, dropped (with everything in it) afterwards."""
    url = require_postgres()
    schema = f"jk_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield in_schema(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


@asynccontextmanager
async def scratch_schema() -> AsyncIterator[str]:
    """``scratch_schema_sync`` for async tests (the two quick DDL statements block briefly)."""
    with scratch_schema_sync() as url:
        yield url
