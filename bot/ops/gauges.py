"""Gauges read at scrape time: the store's backlog and the surfaces' states, briefly cached.

Nothing maintains these by hand: :meth:`StoreGauges.refresh` (awaited by the ``/metrics``
handler) reads them with one cheap store query at most every ``cache_s`` seconds, and
``collect`` (called by prometheus_client) serves that snapshot.
"""

import logging
import time
from collections.abc import Iterable, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import CollectorRegistry

from bot.ports import Clock
from bot.review import REVIEW
from bot.store import EffectStatus, OpsCounts, OutboxRow, Store
from bot.supervisor import SurfaceStatus

log = logging.getLogger(__name__)

CACHE_S = 5.0
SHOWN_STATUSES = (
    EffectStatus.PENDING,
    EffectStatus.IN_FLIGHT,
    EffectStatus.UNCERTAIN,  # may have been applied: a human checks (an alert was posted)
    EffectStatus.FAILED,
)


class StoreGauges:
    """A prometheus_client collector over one store and this process's surfaces."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        surfaces: Sequence[SurfaceStatus] = (),
        *,
        cache_s: float = CACHE_S,
    ) -> None:
        self._store, self._clock, self._surfaces, self._cache_s = store, clock, surfaces, cache_s
        self._counts: OpsCounts | None = None
        self._oldest: OutboxRow | None = None
        self._read_at: float | None = None

    async def refresh(self) -> None:
        """Read the counts from the store unless the last read is fresher than ``cache_s``."""
        now = time.monotonic()
        if self._read_at is not None and now - self._read_at < self._cache_s:
            return
        self._read_at = now
        try:
            async with self._store.read() as tx:
                self._counts = await tx.ops_counts(self._clock.now())
                self._oldest = await tx.oldest_open_effect()
        except Exception:
            log.exception("metrics: the store did not answer")
            self._counts = self._oldest = None

    def collect(self) -> Iterable[Metric]:
        counts = self._counts
        up = GaugeMetricFamily("jokebot_store_up", "1 if the last gauge read of the store worked")
        up.add_metric([], 0.0 if counts is None else 1.0)
        yield up
        outbox = GaugeMetricFamily(
            "jokebot_outbox_effects", "outbox effects not done, by status", labels=["status"]
        )
        reviews = GaugeMetricFamily("jokebot_pending_reviews", "reviews waiting for a moderator")
        leases = GaugeMetricFamily("jokebot_leases_held", "runs executing under a live lease")
        queued = GaugeMetricFamily(
            "jokebot_requests_queued", "requests waiting in line for a slot of their scope"
        )
        oldest = GaugeMetricFamily(
            "jokebot_outbox_oldest_open_seconds", "age of the oldest pending or in-flight effect"
        )
        if counts is not None:
            for status in SHOWN_STATUSES:
                outbox.add_metric([str(status)], float(counts.effects.get(status, 0)))
            reviews.add_metric([], float(counts.pending_waits.get(REVIEW, 0)))
            leases.add_metric([], float(counts.leases))
            queued.add_metric([], float(counts.queued))
            age = 0.0 if self._oldest is None else self._clock.now() - self._oldest.created_at
            oldest.add_metric([], max(0.0, age))
        yield from (outbox, reviews, leases, queued, oldest)
        ready = GaugeMetricFamily(
            "jokebot_surface_ready", "1 if the surface is ready (/health/ready)", labels=["surface"]
        )
        for surface in self._surfaces:
            ready.add_metric([surface.name], 1.0 if surface.ready else 0.0)
        yield ready


async def scrape(registry: CollectorRegistry, gauges: StoreGauges) -> tuple[bytes, str]:
    """The ``/metrics`` body: refresh the store gauges, then render the registry."""
    await gauges.refresh()
    return generate_latest(registry), CONTENT_TYPE_LATEST
