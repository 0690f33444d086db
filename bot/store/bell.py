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

    async def wait(self, seen: int) -> None:
        """Return once the bell has rung since it showed ``seen`` rings (at once if it has).

        Taking the count the caller last saw closes the window between "nothing new" and the
        start of this wait: a ring in between would otherwise be missed for good.
        """
        while self.rings == seen:
            await self._event.wait()
