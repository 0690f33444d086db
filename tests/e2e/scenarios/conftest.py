"""The ``surface`` fixture: every scenario runs once per surface that can express it."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.llm import FakeLLM
from tests.support.surfaces import JOKES, SURFACES, Capability, Surface, surfaces_with

_left_out: list[str] = []


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs(*capabilities): run only on the surfaces that have these capabilities"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``surface`` with the surfaces that have what the scenario ``needs``."""
    if "surface" not in metafunc.fixturenames:
        return
    needed = frozenset(
        Capability(c) for mark in metafunc.definition.iter_markers("needs") for c in mark.args
    )
    names = surfaces_with(needed)
    for name in SURFACES.keys() - set(names):
        missing = ", ".join(sorted(needed - SURFACES[name].capabilities))
        _left_out.append(f"{metafunc.definition.name}[{name}]: no {missing}")
    metafunc.parametrize("surface", names, indirect=True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say which scenario ran on which surface only: leaving one out is a decision, not a skip."""
    if _left_out:
        terminalreporter.write_sep("-", "scenarios not run on a surface (capability missing)")
        for line in sorted(_left_out):
            terminalreporter.write_line(line)


@pytest.fixture
async def surface(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_slack_env: None,
) -> AsyncIterator[Surface]:
    """A running bot on one surface (``request.param``), its model scripted with JOKES."""
    async with SURFACES[request.param].open(tmp_path, monkeypatch, FakeLLM(*JOKES)) as opened:
        yield opened
