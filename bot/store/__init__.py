"""The durable store: the ``Store``/``Tx`` interfaces, their records and ``open_store(url)``.

Every change the runtime makes happens inside one ``Store.transaction()``: a write
transaction that commits durably (SQLite: WAL with ``synchronous=FULL``; PostgreSQL:
``synchronous_commit``) when the block exits normally and rolls back on any exception,
including a simulated crash.
"""

from collections.abc import AsyncGenerator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol, runtime_checkable

from bot.errors import ConfigError
from bot.models import (
    HistoryCursor,
    HistoryEntry,
    HistoryFilter,
    Installation,
    RunStatsReport,
    ScopeConfig,
    Surface,
)
from bot.store.bell import Bell
from bot.store.records import (
    EVERY_LOOP,
    OPEN_EFFECT,
    RUNNABLE,
    TERMINAL,
    AuditRow,
    DutyRow,
    EffectStatus,
    InboxRow,
    OpsCounts,
    OutboxRow,
    RequestRow,
    RequestState,
    ReviewRow,
    RunRow,
    RunStatus,
    WaitRow,
    WaitStatus,
)

__all__ = [
    "EVERY_LOOP",
    "OPEN_EFFECT",
    "RUNNABLE",
    "TERMINAL",
    "AuditRow",
    "Bell",
    "DutyRow",
    "EffectStatus",
    "InboxRow",
    "OpsCounts",
    "OutboxRow",
    "RequestRow",
    "RequestState",
    "ReviewRow",
    "Ringing",
    "RunRow",
    "RunStatus",
    "Store",
    "Tx",
    "WaitRow",
    "WaitStatus",
    "Wakeable",
    "is_postgres",
    "open_store",
]


class Tx(Protocol):
    """Typed operations inside one transaction; compare-and-set methods return False on a miss."""

    async def insert_run(self, run: RunRow) -> bool:
        """Insert ``run``; False (and nothing changed) if its run_id already exists."""
        ...

    async def get_run(self, run_id: str) -> RunRow | None: ...

    async def save_run(self, run: RunRow, *, expect_seq: int, expect_runner: str | None) -> bool:
        """Write every mutable field of ``run`` if the stored seq (and runner) still match."""
        ...

    async def claim_run(
        self, run_id: str, runner_id: str, now: float, until: float
    ) -> RunRow | None:
        """Take the lease of a runnable run if it is free, expired or ours; the run, or None."""
        ...

    async def renew_lease(self, run_id: str, runner_id: str, until: float) -> bool:
        """Extend our lease on a runnable run; False if it is no longer ours."""
        ...

    async def release_leases(self, runner_id: str) -> int:
        """Give up every run lease ``runner_id`` holds (a clean shutdown); how many."""
        ...

    async def runnable_runs(self, runner_id: str, now: float, limit: int) -> list[str]:
        """Ids of runnable runs whose lease is free, expired or held by ``runner_id``."""
        ...

    async def insert_wait(self, wait: WaitRow) -> None: ...

    async def get_wait(self, token: str) -> WaitRow | None: ...

    async def close_wait(self, wait: WaitRow) -> bool:
        """Store ``wait``'s status and decision if it is still pending (the compare-and-set)."""
        ...

    async def due_waits(self, now: float, limit: int) -> list[str]:
        """Tokens of pending waits whose ``expires_at`` is at or before ``now``, earliest first."""
        ...

    async def next_expiry(self) -> float | None:
        """The earliest ``expires_at`` of a pending wait."""
        ...

    async def pending_waits(self, platform: str, scope: str) -> list[WaitRow]:
        """Pending waits of runs whose origin is ``platform``/``scope``, oldest first."""
        ...

    async def open_effects(self, run_id: str) -> int:
        """How many effects of ``run_id`` are not yet delivered (pending or in flight)."""
        ...

    async def insert_inbox(self, row: InboxRow) -> bool:
        """Record an interaction; False if ``(platform, interaction_id)`` was seen before."""
        ...

    async def get_inbox(self, platform: str, interaction_id: str) -> InboxRow | None: ...

    async def set_inbox_result(self, platform: str, interaction_id: str, result: str) -> None: ...

    async def insert_effects(self, rows: Sequence[OutboxRow]) -> None: ...

    async def get_effect(self, effect_id: str) -> OutboxRow | None: ...

    async def update_effect(self, row: OutboxRow, *, expect_claim: str | None) -> bool:
        """Write the delivery fields of ``row`` if ``expect_claim`` (when given) still holds it."""
        ...

    async def claim_effect(
        self, effect_id: str, runner_id: str, now: float, until: float
    ) -> OutboxRow | None:
        """Claim an open effect that is due or already ours until ``until``; the row, or None."""
        ...

    async def due_effects(self, now: float, runner_id: str, limit: int) -> list[OutboxRow]:
        """Open effects first in their run's ``(seq, n)`` order that are due or claimed by us."""
        ...

    async def next_effect_due(self, runner_id: str) -> float | None:
        """When the next effect first in its run's order becomes due (0 if one is ours)."""
        ...

    async def card_effects(self, token: str) -> list[OutboxRow]:
        """The ``review.post`` effects that posted the cards of wait ``token`` (one a surface)."""
        ...

    async def card_updates(self, token: str) -> list[OutboxRow]:
        """The ``review.update`` effects queued for the cards of wait ``token``, in order."""
        ...

    async def pending_reviews(self, limit: int) -> list[WaitRow]:
        """Up to ``limit`` pending waits of kind ``review``, oldest first (boot card check)."""
        ...

    async def closed_reviews_to_update(self, limit: int) -> list[WaitRow]:
        """Decided or expired reviews with a posted card and no update, or a failed one.

        Most recently decided first, at most ``limit`` (the boot check brings them up to date).
        """
        ...

    async def add_audit(self, rows: Sequence[AuditRow]) -> None: ...

    async def audit(self, run_id: str | None = None) -> list[AuditRow]:
        """Audit rows in the order written, for one run or all."""
        ...

    async def save_scope(self, config: ScopeConfig) -> None: ...

    async def get_scope(self, platform: str, scope: str) -> ScopeConfig | None: ...

    async def add_route(self, platform: str, scope: str, surface: Surface, now: float) -> bool:
        """Review ``platform``/``scope``'s requests on ``surface`` too; False if it already was."""
        ...

    async def remove_route(self, platform: str, scope: str, surface: Surface) -> bool: ...

    async def routes(self, platform: str, scope: str) -> list[Surface]:
        """The extra review surfaces of a scope, in the order they were added."""
        ...

    async def add_link_code(
        self, code: str, platform: str, scope: str, expires_at: float
    ) -> None: ...

    async def take_link_code(self, code: str, now: float) -> tuple[str, str] | None:
        """``(platform, scope)`` of an unexpired code, which is used up; None otherwise."""
        ...

    # Requests: the door (per-user cooldown, a scope's queue and slots, status)

    async def serialize(self, key: str) -> None:
        """Hold ``key`` until this transaction ends; another transaction serializing it waits.

        PostgreSQL: a transaction-level advisory lock. SQLite: nothing, writers are serial.
        """
        ...

    async def insert_request(self, row: RequestRow) -> bool:
        """Insert ``row`` and set its ``id``; False (nothing changed) if its run_id has one."""
        ...

    async def get_request(self, run_id: str) -> RequestRow | None: ...

    async def last_request_at(self, requester: str) -> float | None:
        """When ``requester``'s latest accepted request came in, or None."""
        ...

    async def settle_requests(self, platform: str, scope: str, now: float) -> int:
        """Mark ``done`` the scope's active requests whose run finished or failed; how many."""
        ...

    async def active_requests(self, platform: str, scope: str) -> int:
        """The scope's slots in use: active requests whose run is not over."""
        ...

    async def queued_requests(self, platform: str, scope: str, limit: int) -> list[RequestRow]:
        """The scope's queue, first in line first."""
        ...

    async def queued_ahead(self, platform: str, scope: str, request_id: int) -> int:
        """How many queued requests of the scope came before request ``request_id``."""
        ...

    async def admit_request(self, run_id: str, now: float) -> bool:
        """Queued -> active (its kept state dropped) if still queued: the compare-and-set."""
        ...

    async def queued_scopes(self, limit: int) -> list[tuple[str, str]]:
        """``(platform, scope)`` of scopes with a queue, longest waiting first."""
        ...

    async def requests_of(self, requester: str, limit: int) -> list[RequestRow]:
        """``requester``'s latest requests, newest first."""
        ...

    async def reviews_ahead(self, platform: str, scope: str, since: float, request_id: int) -> int:
        """Pending reviews of the scope's active requests opened before ``since``.

        Ties at ``since`` are ordered by request id (the clock may not move between two).
        """
        ...

    # Operations (health checks and metrics; read-only, called from ``Store.read()``)

    async def oldest_open_effect(self) -> OutboxRow | None:
        """The open (pending or in-flight) effect with the earliest ``created_at``, or None."""
        ...

    async def ops_counts(self, now: float) -> OpsCounts:
        """Counts for the gauges, in one read.

        Outbox rows by status (every status but ``done``), pending waits by kind, how many
        runnable runs hold a live lease (``lease_until >= now``, any runner) and how many
        requests wait in line.
        """
        ...

    # Doctor (``jokebot doctor``: reads, and compare-and-set repairs)

    async def stale_leases(self, now: float, limit: int) -> list[RunRow]:
        """Runnable runs whose lease was taken and has expired (``lease_until < now``)."""
        ...

    async def stuck_runs(self, before: float, limit: int) -> list[RunRow]:
        """Runnable runs not updated since ``before``, oldest first."""
        ...

    async def release_lease(self, run_id: str, runner_id: str, lease_until: float) -> bool:
        """Free a run's lease if ``runner_id`` still holds it until exactly ``lease_until``."""
        ...

    async def effects_with_status(self, status: EffectStatus, limit: int) -> list[OutboxRow]:
        """Outbox rows in ``status`` (e.g. uncertain, failed), oldest first."""
        ...

    async def retry_effect(self, effect_id: str, expect: EffectStatus, now: float) -> bool:
        """Set an effect still in ``expect`` back to pending, due at ``now``, unclaimed."""
        ...

    async def scopes(self, platform: str) -> list[ScopeConfig]:
        """Every configured scope of ``platform`` (e.g. each Discord guild), by scope id."""
        ...

    # Retention

    async def prune_runs(self, before: float, limit: int) -> int:
        """Delete up to ``limit`` runs that are over and were last updated before ``before``.

        Only finished or failed runs with no pending or in-flight effect; with each go its
        waits, the inbox rows of those waits, its outbox rows, its request and its audit rows
        (so the audit log still replays to the database). Oldest first; how many runs were deleted.
        """
        ...

    # Singleton duties (the expiry sweep, pruning): one holder at a time, by lease

    async def claim_duty(self, name: str, holder: str, now: float, until: float) -> bool:
        """Take or renew duty ``name`` until ``until`` if it is free, ours or expired at ``now``.

        A compare-and-set: of two processes claiming at once, one wins; a holder whose lease
        another process took over can no longer renew it (the fencing).
        """
        ...

    async def release_duty(self, name: str, holder: str) -> bool:
        """Give duty ``name`` up if ``holder`` holds it (a clean shutdown); False otherwise."""
        ...

    async def duty(self, name: str) -> DutyRow | None:
        """Who holds duty ``name`` and until when (possibly expired), or None."""
        ...

    # The web console's reads

    async def reviews(self, status: WaitStatus, since: float, limit: int) -> list[ReviewRow]:
        """Review waits in ``status`` active since ``since``, newest activity first.

        Activity is when the review was decided, else when it opened.
        """
        ...

    async def run_waits(self, run_id: str) -> list[WaitRow]:
        """Every wait of ``run_id``, in the order they opened."""
        ...

    async def run_effects(self, run_id: str) -> list[OutboxRow]:
        """Every outbox row of ``run_id``, in delivery order."""
        ...

    async def audit_since(self, after: int, limit: int) -> list[AuditRow]:
        """Up to ``limit`` audit rows whose id is greater than ``after``, in id order."""
        ...

    async def last_audit_id(self) -> int:
        """The greatest audit id, 0 when the log is empty."""
        ...

    async def all_routes(self) -> list[tuple[str, str, Surface]]:
        """Every route: ``(platform, scope, surface)``, by scope then in the order added."""

    # Slack multi-workspace installs (``bot.store.installations``)

    async def get_installation(
        self, enterprise_id: str, team_id: str, *, lock: bool = False
    ) -> Installation | None:
        """The installation of a workspace; ``lock`` holds it until the transaction ends.

        Other transactions locking it meanwhile wait (PostgreSQL: ``FOR UPDATE``; SQLite: every
        write transaction excludes the others already).
        """
        ...

    async def save_installation(self, installation: Installation) -> None:
        """Insert, or replace every field of the installation with the same key."""
        ...

    async def delete_installation(self, enterprise_id: str, team_id: str) -> bool: ...

    async def add_oauth_state(self, state: str, expires_at: float) -> None: ...

    async def take_oauth_state(self, state: str, now: float) -> bool:
        """True once for an issued, unexpired state (it is used up); expired ones are dropped."""
        ...

    async def history(
        self, where: HistoryFilter, after: HistoryCursor | None, limit: int
    ) -> list[HistoryEntry]:
        """Up to ``limit`` runs matching ``where``, newest first, after ``after`` (keyset)."""
        ...

    async def run_stats(
        self, since: float, until: float, *, draft_node: str, failure_event: str
    ) -> RunStatsReport:
        """The stats over ``[since, until)``.

        ``draft_node`` names the flow's drafting node (its time is read from the step rows of
        the audit log); ``failure_event`` the flow's audit event for a model failure.
        """
        ...


class Store(Protocol):
    """A durable store: write transactions, read snapshots, scope config, close."""

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        """A write transaction: committed durably on normal exit, rolled back on any exception."""
        ...

    def read(self) -> AbstractAsyncContextManager[Tx]:
        """A consistent read-only snapshot (do not write through it)."""
        ...

    async def save_scope(self, config: ScopeConfig) -> None:
        """Insert or replace the settings of one platform scope."""
        ...

    async def get_scope(self, platform: str, scope: str) -> ScopeConfig | None: ...

    async def schema_version(self) -> int: ...

    async def close(self) -> None: ...


@runtime_checkable
class Wakeable(Protocol):
    """An optional Store capability: hints that another process committed work.

    PostgreSQL offers it (LISTEN/NOTIFY); SQLite does not, and its loops just poll. The
    runtime's ``serve()`` consumes it when the store has it.
    """

    def wakeups(self) -> AsyncGenerator[frozenset[str], None]:
        """An endless stream of loop names (``runs``, ``outbox``, ``timers``) with new work.

        Hints only, never a promise: every loop after each (re)connect, since hints sent
        meanwhile are lost; the loops keep polling. Commits through this store object itself
        are left out (its one runtime woke its own loops). Ends when the store is closed.
        """
        ...


@runtime_checkable
class Ringing(Protocol):
    """An optional Store capability: a :class:`Bell` rung after each commit that added audit rows.

    Both stores have it; it covers this process's commits only.
    """

    bell: Bell


async def open_store(url: str) -> Store:
    """Open (creating and migrating as needed) the store at ``url``.

    ``sqlite:///path/to/bot.db``, or ``postgresql://user@host:port/db`` (also ``postgres://``;
    any libpq URL parameter, e.g. ``?options=-csearch_path%3Djokebot`` for a schema).
    """
    if url.startswith("sqlite:///"):
        from bot.store.sqlite import SqliteStore  # lazy: each backend imports its own driver

        return await SqliteStore.open(url.removeprefix("sqlite:///"))
    if is_postgres(url):
        from bot.store.postgres import PostgresStore

        return await PostgresStore.open(url)
    scheme = url.split(":", 1)[0]
    raise ConfigError(
        f"DATABASE_URL scheme {scheme!r} is not supported; use sqlite:///path/to/jokebot.db or "
        "postgresql://user@host:5432/dbname"
    )


def is_postgres(url: str) -> bool:
    """Whether ``url`` names a PostgreSQL database."""
    return url.startswith(("postgresql://", "postgres://"))
