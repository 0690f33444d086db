"""Import direction (docs/architecture.md): flows ← bot ← adapters, checked with ast."""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WIRING = ("bot.app", "bot.cli", "bot.__main__")  # may import anything
CONTRACTS = ("bot.models", "bot.ports", "bot.errors", "bot.review")  # what adapters may see
FLOW_AGNOSTIC = ("bot.runtime", "bot.store", "bot.service")  # get specific flows via the wiring
SHARED = (
    "adapters._review",
    "adapters._screen",
    "adapters._text",
)  # what every platform package may import
IO = ("socket", "ssl", "sqlite3", "subprocess", "http.client", "http.server", "urllib.request")
# An SDK may be imported only under its owners (console sign-in: Authlib is built on httpx2).
SDK_OWNERS: dict[str, str | tuple[str, ...]] = {
    "discord": "adapters.discord_adapter",
    "slack_bolt": "adapters.slack_adapter",
    "slack_sdk": "adapters.slack_adapter",
    "openai": "bot.llm",
    "httpx2": ("bot.llm", "adapters.console"),
    "llama_cpp": "bot.llm",
    "aiosqlite": "bot.store",
    "psycopg": "bot.store",
    "psycopg_pool": "bot.store",
    "sqlite3": "bot.store",
    "pydantic_settings": "bot.config",
    "prometheus_client": "bot.ops",
    "profanity_check": "bot.classifier",
    "sklearn": "bot.classifier",
}


def under(name: str, *prefixes: str) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def problem(mod: str, name: str) -> str | None:
    """Why module ``mod`` must not import ``name``; None if it may."""
    for sdk, owner in SDK_OWNERS.items():
        owners = (owner,) if isinstance(owner, str) else owner
        if under(name, sdk) and not under(mod, *owners):
            return f"{sdk} belongs to {' and '.join(owners)}"
    if under(mod, "flows"):
        top = name.split(".")[0]
        ok = under(name, "flows") or (top in sys.stdlib_module_names and not under(name, *IO))
        return None if ok else "flows (the engine) imports the stdlib only"
    if under(mod, "bot"):
        if under(name, "adapters", *WIRING):
            return "bot gets adapters through the wiring"
        if under(mod, *FLOW_AGNOSTIC) and under(name, "bot.joke"):
            return "the runtime, store and service know no specific flow"
        return None
    if under(mod, "adapters"):
        if under(name, "flows") or (under(name, "bot") and not under(name, *CONTRACTS)):
            return "adapters import the bot contracts (models, ports, errors, review) only"
        own = ".".join(mod.split(".")[:2])
        if under(name, "adapters") and not under(name, own, *SHARED):
            return "adapters share only adapters._review and adapters._text, never each other"
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
        if under(mod, *WIRING):
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
        ("flows/checkpoint.py", "import aiohttp", True),
        ("flows/durable.py", "import socket", True),
        ("flows/_resume.py", "from ..bot import runtime", True),
        ("flows/engine.py", "import asyncio, copy\nfrom . import _resume", False),
        ("bot/joke/_draft.py", "from bot.models import EffectKind\nfrom flows import Node", False),
        ("bot/joke/_draft.py", "from adapters.terminal import run", True),
        ("bot/joke/_draft.py", "import openai", True),
        ("bot/models.py", "from bot.app import open_core", True),
        ("bot/config.py", "from pydantic_settings import BaseSettings", False),
        ("bot/runtime/_runner.py", "from bot.joke import build_joke_flow", True),
        ("bot/service.py", "from bot.joke import new_joke_state", True),
        ("bot/runtime/_runner.py", "import openai", True),
        ("bot/runtime/_runner.py", "from bot.review import REVIEW\nfrom flows import Wait", False),
        ("bot/store/sqlite.py", "import aiosqlite, sqlite3", False),
        ("bot/llm/openai_chat.py", "import openai", False),
        ("adapters/console/_oauth.py", "import httpx2\nfrom bot.models import Actor", False),
        ("adapters/discord_adapter/_client.py", "import httpx2", True),
        ("adapters/discord_adapter/_render.py", "from adapters.slack_adapter import x", True),
        ("adapters/discord_adapter/_render.py", "from bot.runtime import Runtime", True),
        ("adapters/discord_adapter/_render.py", "from flows import Wait", True),
        ("adapters/slack_adapter/_render.py", "import discord", True),
        ("adapters/terminal.py", "from bot.store import open_store", True),
        (
            "adapters/discord_adapter/_render.py",
            "import discord\nfrom . import _buttons\nfrom adapters._review import x\n"
            "from bot.review import Card",
            False,
        ),
        ("bot/app/_serve.py", "import discord\nfrom adapters.terminal import run", False),
        ("bot/supervisor.py", "from adapters.discord_adapter import run_discord", True),
        ("bot/joke/screen.py", "from profanity_check import predict_prob", True),
        ("bot/classifier/_profanity.py", "from profanity_check import predict_prob", False),
        ("adapters/slack_adapter/_screen.py", "from adapters._screen import describe", False),
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
