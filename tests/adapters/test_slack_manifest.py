import re
from pathlib import Path

from adapters.slack_adapter import SlackConfig
from tests.support.fake_slack_rules import manifest_scopes

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def _active_lines() -> list[str]:
    return [line.split("#", 1)[0].rstrip() for line in MANIFEST.read_text().splitlines()]


def test_manifest_declares_the_slash_command_the_adapter_listens_to() -> None:
    commands = [
        m.group(1) for m in (re.search(r"- command: (\S+)", x) for x in _active_lines()) if m
    ]

    assert commands == [SlackConfig("x", "C", "C").command]


def test_manifest_grants_every_scope_the_adapter_uses() -> None:
    scopes = {
        m.group(1) for m in (re.fullmatch(r"\s+- ([a-z.:]+)", x) for x in _active_lines()) if m
    }

    needed = {
        "commands",
        "chat:write",
        "im:write",
        "channels:read",
        "groups:read",
        "channels:history",
        "groups:history",
    }
    assert needed <= scopes
    assert "usergroups:read" in scopes


def test_manifest_defaults_to_socket_mode_with_interactivity() -> None:
    text = "\n".join(_active_lines())

    assert "socket_mode_enabled: true" in text
    assert re.search(r"interactivity:\n\s+is_enabled: true", text)
    assert "request_url:" not in text  # HTTP mode only, left commented out


def test_the_oauth_install_asks_for_exactly_the_manifests_bot_scopes() -> None:
    assert set(SlackConfig("x", "C", "C").bot_scopes) == manifest_scopes()
