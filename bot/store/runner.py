"""This process's runner id: stable across restarts on one SQLite file, unique among live ones.

Run leases, effect claims and duties are held by a runner id. With ``host:pid`` a restarted
process is a stranger to its own leases and an interrupted draft waits for its lease (30 s)
to run out. On SQLite every process on a data file is on one host, so the id can be a *slot*
of that file instead: slot ``n`` is held through an exclusive ``flock`` on
``<db>.runner-<n>.lock``, which the kernel drops the moment its holder exits, ``kill -9``
included. A process takes the first free slot; the id is ``host:sqlite:<file digest>:<n>``.
Why this is safe: a slot's lock is held for the whole life of its process, so two live
processes never hold one slot, hence never share an id; and a slot is free only when its last
holder is gone, so taking back that holder's leases at once can race nobody. When no slot can
be locked (every one busy, a read-only directory, a filesystem without locks), or on
PostgreSQL (processes on many hosts), the id falls back to ``host:pid:<random>``.
"""

import fcntl
import hashlib
import logging
import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

SLOTS = 16  # more processes than this on one file get a random id (and 30 s leases)


@contextmanager
def runner_identity(database_url: str) -> Iterator[str]:
    """A runner id for this process on ``database_url``, held until the block exits."""
    host = socket.gethostname()
    if not database_url.startswith("sqlite:///"):
        yield fallback_id(host)
        return
    path = Path(database_url.removeprefix("sqlite:///")).resolve()
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    for slot in range(SLOTS):
        fd = _lock(path.with_name(f"{path.name}.runner-{slot}.lock"))
        if fd is None:
            continue
        try:
            yield f"{host}:sqlite:{digest}:{slot}"
        finally:
            os.close(fd)  # drops the lock: the slot is free for the next process
        return
    log.warning("no free runner slot next to %s: interrupted drafts wait for their lease", path)
    yield fallback_id(host)


def fallback_id(host: str) -> str:
    """An id nobody else has: host, pid and a random part (a pid is reused after a reboot)."""
    return f"{host}:{os.getpid()}:{secrets.token_hex(4)}"


def _lock(path: Path) -> int | None:
    """An open descriptor holding an exclusive lock on ``path``; None if another holds it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        log.warning("cannot open the runner lock %s: %s", path, exc)
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd
