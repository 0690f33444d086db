"""The jokebot command: clear configuration errors with exit status 2, and the small commands."""

from pathlib import Path

import pytest

from bot.cli import main


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no stray .env is read, no database left behind


@pytest.mark.parametrize(
    ("argv", "env", "named"),
    [
        (["discord"], {}, "DISCORD_TOKEN"),
        (["slack"], {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN"),
        (["slack", "--http"], {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_SIGNING_SECRET"),
        (["check-config"], {"MAX_ATTEMPTS": "zero"}, "MAX_ATTEMPTS"),
        (["check-config"], {"LLM_PROVIDER": "gpt"}, "LLM_PROVIDER"),
        (["check-config", "--platform", "slack"], {}, "SLACK_BOT_TOKEN"),
        (["serve"], {}, "DISCORD_TOKEN"),
        (["serve"], {"SLACK_BOT_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN"),
        (["serve"], {"SLACK_HTTP_PORT": "70000"}, "SLACK_HTTP_PORT"),
        (["slack"], {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "cs"}, "--http"),
        (
            ["check-config", "--platform", "slack-http"],
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "cs"},
            "SLACK_SIGNING_SECRET",
        ),
    ],
)
def test_cli_missing_or_bad_setting_is_named_with_exit_status_2(
    argv: list[str],
    env: dict[str, str],
    named: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    status = main(argv)

    err = capsys.readouterr().err
    assert status == 2
    assert named in err
    assert "Traceback" not in err
    assert "xoxb-1" not in err  # secrets never echoed


def test_cli_check_config_accepts_multi_workspace_http_without_a_bot_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key, value in {
        "SLACK_CLIENT_ID": "1.2",
        "SLACK_CLIENT_SECRET": "cs-secret",
        "SLACK_SIGNING_SECRET": "ss-secret",
    }.items():
        monkeypatch.setenv(key, value)

    status = main(["check-config", "--platform", "slack-http"])

    out, err = capsys.readouterr()
    assert status == 0, err
    assert "cs-secret" not in out + err


def test_cli_check_config_says_which_llm(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_MODEL", "llama3.2")

    status = main(["check-config"])

    assert status == 0
    assert "llama3.2" in capsys.readouterr().out


def test_cli_init_db_creates_the_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")

    status = main(["init-db"])

    assert status == 0
    assert "schema version" in capsys.readouterr().out
    assert (tmp_path / "new.db").exists()


def test_cli_invite_url_without_a_token_explains_the_placeholder(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["discord", "invite-url"])

    out = capsys.readouterr().out
    assert status == 0
    assert "client_id=<APPLICATION_ID>" in out
    assert "scope=bot+applications.commands" in out
