"""A served console over a fresh stack, per test."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.console import ConsoleHarness, console_harness


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[ConsoleHarness]:
    async with console_harness(tmp_path) as harness:
        yield harness
