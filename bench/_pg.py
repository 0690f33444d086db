"""What the PostgreSQL benchmarks share: a scratch schema per run, percentiles, fsync latency.

The server is ``--postgres URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``, the
test server of these machines); other work may share the database, so every run writes into
a ``bench_<random>`` schema of its own, dropped afterwards.
"""

import os
import secrets
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg

from tests.support.postgres import in_schema

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def reachable(url: str) -> str | None:
    """Why ``url`` cannot be used, or None if a connection works."""
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


@contextmanager
def scratch_schema(url: str) -> Iterator[str]:
    """A URL on a fresh schema, dropped with everything in it afterwards."""
    schema = f"bench_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f"CREATE SCHEMA {schema}")
    try:
        yield in_schema(url, schema)
    finally:
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f"DROP SCHEMA {schema} CASCADE")


def pct(samples: Sequence[float], q: float) -> float:
    """The ``q`` quantile of ``samples`` (seconds) in milliseconds; 0 for none."""
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def fsync_latencies(directory: Path | None, count: int = 500, size: int = 4096) -> list[float]:
    """Seconds per ``write(size) + fsync`` on a temp file in ``directory``: the disk's own cost.

    Each round rewrites the same block, as a commit rewrites the WAL's tail page.
    """
    block = os.urandom(size)
    samples = []
    with tempfile.NamedTemporaryFile(dir=directory) as f:
        fd = f.fileno()
        for _ in range(count):
            os.lseek(fd, 0, os.SEEK_SET)
            t0 = time.perf_counter()
            os.write(fd, block)
            os.fsync(fd)
            samples.append(time.perf_counter() - t0)
    return samples
