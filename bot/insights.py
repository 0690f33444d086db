"""Insights: the console's history and stats (``bot.ports.RunInsights``) over the store.

Everything is counted by the store's queries (``Tx.history``, ``Tx.run_stats``); this only
names what the flow calls its drafting node and its model-failure event, which the wiring
knows and the store does not.
"""

from dataclasses import dataclass

from bot.models import HistoryCursor, HistoryEntry, HistoryFilter, RunStatsReport
from bot.store import Store


@dataclass(frozen=True)
class FlowSignals:
    """Where a flow's drafting shows in the audit log."""

    draft_node: str  # the node that calls the model (its step rows time it)
    failure_event: str  # the flow's audit event for a failed model call


class Insights:
    """History and stats read from ``store``."""

    def __init__(self, store: Store, signals: FlowSignals) -> None:
        self._store, self._signals = store, signals

    async def history(
        self, where: HistoryFilter, after: HistoryCursor | None = None, limit: int = 50
    ) -> list[HistoryEntry]:
        async with self._store.read() as tx:
            return await tx.history(where, after, limit)

    async def stats(self, since: float, until: float) -> RunStatsReport:
        signals = self._signals
        async with self._store.read() as tx:
            return await tx.run_stats(
                since,
                until,
                draft_node=signals.draft_node,
                failure_event=signals.failure_event,
            )
