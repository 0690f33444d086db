"""The runner id (bot/store/runner.py): the same after a restart, never shared by live processes."""

import asyncio
import os
import sys
from pathlib import Path

from bot.store.runner import SLOTS, runner_identity

CHILD = """
import sys, time
from bot.store.runner import runner_identity
with runner_identity(sys.argv[1]) as rid:
    print(rid, flush=True)
    time.sleep(600)
"""
REPO = Path(__file__).resolve().parents[2]


def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'bot.db'}"


async def holder(database_url: str) -> tuple[asyncio.subprocess.Process, str]:
    """A live process holding its runner id on ``database_url``, and that id."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        CHILD,
        database_url,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None
    line = await asyncio.wait_for(child.stdout.readline(), 30)
    return child, line.decode().strip()


async def kill(child: asyncio.subprocess.Process) -> None:
    child.kill()
    await child.wait()


def test_runner_id_is_the_same_after_a_restart(tmp_path: Path) -> None:
    with runner_identity(url(tmp_path)) as first:
        pass
    with runner_identity(url(tmp_path)) as second:
        pass

    assert first == second
    assert first.endswith(":0")


def test_two_holders_on_one_file_never_share_an_id(tmp_path: Path) -> None:
    with runner_identity(url(tmp_path)) as first, runner_identity(url(tmp_path)) as second:
        assert first != second
        with runner_identity(f"sqlite:///{tmp_path / 'other.db'}") as elsewhere:
            assert elsewhere not in (first, second)  # another file, another id space


def test_without_a_free_slot_the_id_is_random(tmp_path: Path) -> None:
    ids: list[str] = []
    holders = [runner_identity(url(tmp_path)) for _ in range(SLOTS + 2)]
    try:
        ids = [h.__enter__() for h in holders]
    finally:
        for h in holders:
            h.__exit__(None, None, None)

    assert len(set(ids)) == SLOTS + 2
    assert [i.split(":")[-1] for i in ids[:SLOTS]] == [str(n) for n in range(SLOTS)]
    assert all(":sqlite:" not in i for i in ids[SLOTS:])


def test_postgres_gets_a_random_id_each_time() -> None:
    pg = "postgresql://postgres@127.0.0.1:5432/test"
    with runner_identity(pg) as first, runner_identity(pg) as second:
        assert first != second


async def test_a_live_process_keeps_its_id_and_a_killed_ones_id_is_taken_back(
    tmp_path: Path,
) -> None:
    first, first_id = await holder(url(tmp_path))
    try:
        second, second_id = await holder(url(tmp_path))
        await kill(second)
        with runner_identity(url(tmp_path)) as while_first_lives:
            assert while_first_lives != first_id  # a live process's id is never handed out
            assert while_first_lives == second_id  # the killed one's is, at once
    finally:
        await kill(first)

    again, again_id = await holder(url(tmp_path))
    await kill(again)
    assert first_id != second_id
    assert again_id == first_id  # kill -9 freed it
