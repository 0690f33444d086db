"""The invariant checker itself: it passes on a healthy database and names each violation."""

import sqlite3
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from tests.support.runtime_harness import ALICE, Harness
from tests.support.runtime_invariants import check_invariants

Mutation = Callable[[sqlite3.Connection, Harness], None]


def double_post(db: sqlite3.Connection, h: Harness) -> None:
    post = h.platform.public_posts()[0]
    h.platform.messages.append(replace(post, ref="m99"))


def lost_post(db: sqlite3.Connection, h: Harness) -> None:
    h.platform.messages.remove(h.platform.public_posts()[0])


def inbox_row_lost(db: sqlite3.Connection, h: Harness) -> None:
    db.execute("DELETE FROM inbox WHERE result = 'applied' AND platform = 'fake'")


def expired_but_approved(db: sqlite3.Connection, h: Harness) -> None:
    db.execute("UPDATE waits SET status = 'expired' WHERE decision_json LIKE '%approve%'")


def audit_gap(db: sqlite3.Connection, h: Harness) -> None:
    db.execute("DELETE FROM audit WHERE event = 'wait.decided'")


def rejected_again(db: sqlite3.Connection, h: Harness) -> None:
    first = db.execute("SELECT payload_json FROM waits ORDER BY seq LIMIT 1").fetchone()[0]
    db.execute(
        "UPDATE waits SET payload_json = ? WHERE seq = (SELECT MAX(seq) FROM waits)", (first,)
    )


def stuck_run(db: sqlite3.Connection, h: Harness) -> None:
    db.execute("UPDATE runs SET status = 'waiting', wait_token = 'gone'")


def wrong_answer(db: sqlite3.Connection, h: Harness) -> None:
    db.execute("UPDATE inbox SET result = 'forbidden' WHERE platform = 'fake'")


@pytest.mark.parametrize(
    ("violation", "mutate"),
    [
        ("I1", double_post),
        ("I2", lost_post),
        ("I3", inbox_row_lost),
        ("I4", expired_but_approved),
        ("I5", audit_gap),
        ("I6", rejected_again),
        ("I7", stuck_run),
        ("I8", wrong_answer),
    ],
)
async def test_checker_names_the_violated_invariant(
    tmp_path: Path, violation: str, mutate: Mutation
) -> None:
    h = Harness(tmp_path / "bot.db")
    await h.boot()
    try:
        run_id = await h.start()
        await h.drain()
        await h.click(run_id, "reject", ALICE)
        await h.drain()
        await h.click(run_id, "approve", ALICE)
        await h.drain()
    finally:
        await h.shutdown()
    check_invariants(h.path, h.platform, drained=True)

    db = sqlite3.connect(h.path)
    with db:
        mutate(db, h)
    db.close()

    with pytest.raises(AssertionError, match=violation):
        check_invariants(h.path, h.platform, drained=True)
