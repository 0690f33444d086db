"""StoreInstallations: the ``Installations`` port on a ``Store`` (Slack multi-workspace mode).

Token rotation is serialised per installation across processes: ``rotate`` runs in one write
transaction that first locks the installation's row (PostgreSQL ``SELECT ... FOR UPDATE``;
SQLite ``BEGIN IMMEDIATE``, which holds the database's write lock), then reads it again, and
exchanges the refresh token only if the row is still due. Whoever waited for the lock reads
the pair its predecessor stored and exchanges nothing, so a single-use refresh token is never
spent twice. The exchange's HTTP call runs while the lock is held: on SQLite that pauses
every other write for one ``oauth.v2.access`` round trip, once per installation per rotation
(every ~10 hours with Slack's 12-hour tokens).
"""

from collections.abc import Awaitable, Callable

from bot.models import Installation
from bot.store import Store


class StoreInstallations:
    """Implements :class:`bot.ports.Installations` on any store backend."""

    def __init__(self, store: Store) -> None:
        self._store = store

    async def save_installation(self, installation: Installation) -> None:
        async with self._store.transaction() as tx:
            await tx.save_installation(installation)

    async def find_installation(self, enterprise_id: str, team_id: str) -> Installation | None:
        async with self._store.read() as tx:
            return await tx.get_installation(enterprise_id, team_id)

    async def delete_installation(self, enterprise_id: str, team_id: str) -> bool:
        async with self._store.transaction() as tx:
            return await tx.delete_installation(enterprise_id, team_id)

    async def rotate(
        self,
        enterprise_id: str,
        team_id: str,
        due: Callable[[Installation], bool],
        exchange: Callable[[Installation], Awaitable[Installation]],
    ) -> Installation | None:
        async with self._store.transaction() as tx:
            current = await tx.get_installation(enterprise_id, team_id, lock=True)
            if current is None or not due(current):
                return current
            rotated = await exchange(current)
            await tx.save_installation(rotated)
            return rotated

    async def issue_state(self, state: str, expires_at: float) -> None:
        async with self._store.transaction() as tx:
            await tx.add_oauth_state(state, expires_at)

    async def consume_state(self, state: str, now: float) -> bool:
        async with self._store.transaction() as tx:
            return await tx.take_oauth_state(state, now)
