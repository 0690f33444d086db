"""Import direction (docs/architecture.md, style guide §3), checked with ast over the source."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WIRING = {"bot.app", "bot.cli", "bot.__main__"}
CORE = ("flows.engine", "flows.durable", "flows.checkpoint", "flows._copy", "flows._resume")
NEUTRAL = ("bot.models", "bot.ports", "bot.errors")
HEAVY = ("bot.runtime", "bot.store", "bot.llm", "bot.service", "bot.outbox", *WIRING)
EXTRA = {"bot.models": ("pydantic",), "bot.ports": ("pydantic",), "bot.errors": ()}
EXTRA["bot.config"] = ("pydantic", "pydantic_settings")
IO = ("socket", "ssl", "sqlite3", "subprocess", "http.client", "http.server", "urllib.request")
SDK_OWNERS = {
    "discord": "adapters.discord_adapter",
    "slack_bolt": "adapters.slack_adapter",
    "slack_sdk": "adapters.slack_adapter",
    "openai": "bot.llm",
    "httpx2": "bot.llm",
    "llama_cpp": "bot.llm",
    "aiosqlite": "bot.store",
    "asyncpg": "bot.store",
    "sqlite3": "bot.store",
}


def under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def stdlib(name: str) -> bool:
    return name.split(".")[0] in sys.stdlib_module_names and not under(name, *IO)


def problem(mod: str, name: str) -> str | None:
    """Why module ``mod`` must not import ``name``; None if it may."""
    for sdk, owner in SDK_OWNERS.items():  # adapters/discord_adapter* may split into parts
        if under(name, sdk) and not (under(mod, owner) or mod.startswith(owner + "_")):
            return f"{sdk} belongs to {owner}"
    if mod in CORE and not (stdlib(name) or under(name, *CORE)):
        return "the engine imports the stdlib only"
    if under(mod, "flows") and not (stdlib(name) or under(name, "flows", *NEUTRAL)):
        return "flows import flows.*, bot.models/ports/errors and the stdlib only"
    lower = under(name, "bot") and not under(name, *HEAVY)  # neutral bot modules
    if mod in EXTRA and not (stdlib(name) or lower or under(name, "flows.durable", *EXTRA[mod])):
        return "neutral modules import the stdlib, neutral bot modules and flows.durable only"
    if under(mod, "bot") and under(
        name, "adapters", "flows.joke", "flows.hygiene", "flows.prompts"
    ):
        return "the runtime gets adapters and specific flows through the wiring"
    if under(mod, "bot") and under(name, *WIRING):
        return "only the entry points import the wiring"
    if under(mod, "adapters") and (
        under(name, "flows") or (under(name, "bot") and not under(name, *NEUTRAL))
    ):
        return "adapters import bot.models/ports/errors only"
    if under(mod, "adapters") and under(name, "adapters") and name.count(".") > 0:
        family = mod.split(".")[1].split("_adapter")[0]
        if name.split(".")[1].split("_adapter")[0] != family:
            return "adapters do not import each other"
    return None


def imports(path: Path, mod: str) -> list[tuple[int, str]]:
    """Absolute names imported anywhere in ``path`` (``from a import b`` gives ``a.b``)."""
    package = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            stem = ".".join([*base, *([node.module] if node.module else [])])
            found += [
                (node.lineno, f"{stem}.{a.name}" if a.name != "*" else stem) for a in node.names
            ]
    return found


def violations(root: Path) -> list[str]:
    """Every forbidden import in bot/, flows/ and adapters/ under ``root``."""
    found = []
    for path in sorted(
        p for top in ("bot", "flows", "adapters") for p in (root / top).rglob("*.py")
    ):
        parts = path.relative_to(root).with_suffix("").parts
        mod = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if mod in WIRING:
            continue
        for line, name in imports(path, mod):
            if reason := problem(mod, name):
                found.append(f"{path.relative_to(root)}:{line}: {name} ({reason})")
    return found


def test_architecture_import_directions_hold() -> None:
    found = violations(ROOT)

    assert not found, "forbidden imports:\n" + "\n".join(found)


@pytest.mark.parametrize(
    ("path", "source", "bad"),
    [
        ("flows/engine.py", "from bot.models import JokeRequest", True),
        ("flows/joke.py", "import aiohttp", True),
        ("flows/joke.py", "import socket", True),
        ("flows/joke.py", "from adapters.terminal import run", True),
        ("flows/joke.py", "from ..bot import runtime", True),
        ("flows/joke.py", "from bot.models import JokeRequest\nfrom . import prompts", False),
        ("bot/models.py", "from flows.engine import Flow", True),
        ("bot/models.py", "from flows.durable import Wait\nfrom pydantic import BaseModel", False),
        ("bot/errors.py", "import pydantic", True),
        ("bot/models.py", "from bot.runtime import Runtime", True),
        ("bot/models.py", "from bot.clock import Clock", False),
        ("bot/config.py", "from pydantic_settings import BaseSettings", False),
        ("bot/runtime/_runner.py", "from flows.joke import build_joke_flow", True),
        ("bot/runtime/_runner.py", "import openai", True),
        ("bot/runtime/_runner.py", "from bot import app", True),
        ("bot/runtime/_runner.py", "from flows.engine import AsyncFlow", False),
        ("bot/store/sqlite.py", "import aiosqlite, sqlite3", False),
        ("bot/llm/openai_chat.py", "import openai", False),
        ("adapters/discord_adapter/views.py", "from adapters.slack_adapter import x", True),
        ("adapters/discord_adapter/views.py", "from bot.runtime import Runtime", True),
        ("adapters/discord_adapter/views.py", "from flows import Wait", True),
        ("adapters/slack_adapter.py", "import discord", True),
        ("adapters/discord_adapter/views.py", "import discord\nfrom .cards import x", False),
        ("bot/app.py", "import discord\nfrom adapters.terminal import run", False),
    ],
)
def test_architecture_checker_reports_planted_imports(
    tmp_path: Path, path: str, source: str, bad: bool
) -> None:
    target = tmp_path / path
    target.parent.mkdir(parents=True)
    target.write_text(source + "\n", encoding="utf-8")

    found = violations(tmp_path)

    assert bool(found) is bad, found
    assert all(f.startswith(f"{path}:") for f in found)
