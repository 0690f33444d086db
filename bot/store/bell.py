"""Bell: an in-process "new audit rows were committed" signal, rung by the store after COMMIT.

A store that has one (:class:`bot.store.Ringing`) rings it after every write transaction that
added audit rows, once they are committed; the console's feed waits on it instead of polling
fast. It says nothing about other processes: their commits are found by polling (SQLite) or
the same poll on PostgreSQL.
"""

import asyncio


class Bell:
    """Wakes every current waiter; a ring with nobody waiting is not kept for later ones."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.rings = 0

    def ring(self) -> None:
        """Wake whoever waits now."""
        self.rings += 1
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self) -> None:
        """Return at the next ring."""
        await self._event.wait()
