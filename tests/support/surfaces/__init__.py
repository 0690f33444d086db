"""Surface drivers: the end-to-end scenarios' one interface to Discord, Slack and the terminal.

- ``_base``: :class:`Surface` (the Protocol), :class:`Card`, :class:`Person`, :class:`Capability`;
- ``_driver``: what every driver shares (the core, the clock, the restart sequence);
- ``_discord`` / ``_slack`` / ``_terminal``: the real adapter on its fake platform.

A new surface (the web console) adds one driver module and one line in :data:`SURFACES`.
"""

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.llm import FakeLLM
from tests.support.surfaces._base import Capability, Card, Click, Person, Surface, Unsupported
from tests.support.surfaces._discord import DiscordSurface, open_discord
from tests.support.surfaces._slack import SlackSurface, open_slack
from tests.support.surfaces._terminal import TerminalSurface, open_terminal

Opener = Callable[[Path, pytest.MonkeyPatch, FakeLLM], AbstractAsyncContextManager[Surface]]

# What the model answers in scenarios, in order (the last one repeats).
JOKES = (
    "What do cats eat for breakfast? Mice Krispies.",
    "Why was the cat so good at video games? It had nine lives.",
    "What do you call a pile of cats? A meowtain.",
)


@dataclass(frozen=True)
class SurfaceKind:
    """A surface's name, what it can express, and how to open it."""

    name: str
    capabilities: frozenset[Capability]
    open: Opener


SURFACES = {
    kind.name: kind
    for kind in (
        SurfaceKind(DiscordSurface.name, DiscordSurface.capabilities, open_discord),
        SurfaceKind(SlackSurface.name, SlackSurface.capabilities, open_slack),
        SurfaceKind(TerminalSurface.name, TerminalSurface.capabilities, open_terminal),
    )
}


def needs(*capabilities: Capability) -> pytest.MarkDecorator:
    """Run a scenario only on the surfaces that have every one of ``capabilities``.

    The others are left out of its parametrisation (tests/e2e/scenarios/conftest.py), so a
    surface that cannot express a scenario neither fails nor skips it.
    """
    return pytest.mark.needs(*capabilities)


def surfaces_with(capabilities: frozenset[Capability]) -> list[str]:
    """Names of the surfaces that have every one of ``capabilities``."""
    return [name for name, kind in SURFACES.items() if capabilities <= kind.capabilities]


__all__ = [
    "JOKES",
    "SURFACES",
    "Capability",
    "Card",
    "Click",
    "DiscordSurface",
    "Person",
    "SlackSurface",
    "Surface",
    "SurfaceKind",
    "TerminalSurface",
    "Unsupported",
    "needs",
    "open_discord",
    "open_slack",
    "open_terminal",
    "surfaces_with",
]
