"""Run-state transitions: every change of a run's status is built here, and only here.

::

    start ──► RUNNING ──step──► RUNNING ──suspend──► WAITING ──decide/expire──► RESUMING
                 │  ▲                                                              │
                 │  └──────────────────────────── resume (claim) ◄─────────────────┘
                 ├──end──► FINISHED
                 └──error──► FAILED        (RESUMING fails the same way)

Each function returns a new :class:`RunRow` one ``seq`` later (``start`` is seq 0); the caller
saves it with the compare-and-set on the old ``(seq, runner_id)``. Claiming and releasing a
lease changes no status and stays in the store (``claim_run``, ``release_leases``).
"""

from dataclasses import replace
from typing import Any

from bot.store import RunRow, RunStatus


def start(
    run_id: str, flow: str, origin: dict[str, Any], checkpoint: dict[str, Any], now: float
) -> RunRow:
    """A new run, runnable from its first node."""
    return RunRow(
        run_id=run_id,
        flow=flow,
        origin=origin,
        status=RunStatus.RUNNING,
        cursor="start",
        seq=0,
        checkpoint=checkpoint,
        created_at=now,
        updated_at=now,
    )


def step(run: RunRow, checkpoint: dict[str, Any], now: float, lease_until: float) -> RunRow:
    """About to run the next leaf node: still RUNNING, lease renewed."""
    return replace(
        _next(run, checkpoint, now),
        status=RunStatus.RUNNING,
        cursor=cursor_of(checkpoint),
        lease_until=lease_until,
    )


def suspend(run: RunRow, checkpoint: dict[str, Any], token: str, now: float) -> RunRow:
    """Paused at wait ``token``; the lease is given up until a decision arrives."""
    return replace(
        _next(run, checkpoint, now),
        status=RunStatus.WAITING,
        cursor=f"waiting:{token}",
        wait_token=token,
        runner_id=None,
        lease_until=None,
    )


def finish(run: RunRow, checkpoint: dict[str, Any], now: float) -> RunRow:
    """The flow ended."""
    return replace(
        _next(run, checkpoint, now),
        status=RunStatus.FINISHED,
        cursor="finished",
        runner_id=None,
        lease_until=None,
    )


def resume(run: RunRow, decision: dict[str, Any], token: str, now: float) -> RunRow:
    """Wait ``token`` was decided (or expired): runnable again, with the decision to apply."""
    return replace(
        run,
        status=RunStatus.RESUMING,
        decision=decision,
        seq=run.seq + 1,
        cursor=f"decided:{token}",
        updated_at=now,
    )


def fail(run: RunRow, error: str, now: float) -> RunRow:
    """Stopped by an unexpected error; never lost silently (the caller alerts)."""
    return replace(
        run,
        status=RunStatus.FAILED,
        seq=run.seq + 1,
        cursor="failed",
        decision=None,
        runner_id=None,
        lease_until=None,
        error=error,
        updated_at=now,
    )


def _next(run: RunRow, checkpoint: dict[str, Any], now: float) -> RunRow:
    return replace(run, seq=run.seq + 1, checkpoint=checkpoint, decision=None, updated_at=now)


def cursor_of(checkpoint: dict[str, Any]) -> str:
    """``outer/inner`` node names of a running checkpoint."""
    return "/".join(str(level["node"]) for level in checkpoint.get("levels", [])) or "start"
