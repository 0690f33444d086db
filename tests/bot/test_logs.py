"""Structured logs: JSON and text lines with the bound context, and the redacting filter."""

import asyncio
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot import logs
from bot.config import load_settings
from bot.supervisor import SurfaceStatus, supervise
from tests.support.clock import FakeClock
from tests.support.logs import captured

log = logging.getLogger("tests.logs")
ROOT = Path(__file__).resolve().parents[2]


def test_logs_json_line_has_time_level_logger_message_and_context() -> None:
    with captured("json") as out, logs.bound(run_id="discord:1", platform="discord"):
        log.warning("hello %s", "world")

    line = json.loads(out.lines[-1])
    assert line["message"] == "hello world"
    assert line["level"] == "WARNING"
    assert line["logger"] == "tests.logs"
    assert line["time"].endswith("+00:00")
    assert (line["run_id"], line["platform"]) == ("discord:1", "discord")
    assert "surface" not in line
    assert "request_key" not in line


def test_logs_json_line_carries_the_traceback() -> None:
    with captured("json") as out:
        try:
            raise ValueError("boom")
        except ValueError:
            log.exception("it broke")

    line = json.loads(out.lines[-1])
    assert "ValueError: boom" in line["exception"]


def test_logs_text_line_appends_the_context_only_when_bound() -> None:
    with captured("text") as out:
        log.info("plain")
        with logs.bound(surface="slack"):
            log.info("inside")

    assert out.lines[-2].endswith("INFO tests.logs: plain")
    assert out.lines[-1].endswith("INFO tests.logs: inside [surface=slack]")


def test_logs_bound_is_undone_after_the_block_and_nests() -> None:
    with logs.bound(run_id="a"):
        with logs.bound(run_id="b", surface="x"):
            assert logs.context() == {"run_id": "b", "surface": "x"}
        assert logs.context() == {"run_id": "a"}

    assert logs.context() == {}


async def test_logs_context_reaches_tasks_and_threads_started_inside() -> None:
    def in_thread() -> None:
        log.info("thread")

    async def in_task() -> None:
        log.info("task")

    with captured("json") as out, logs.bound(request_key="slack:T1:trig"):
        await asyncio.create_task(in_task())
        await asyncio.to_thread(in_thread)

    assert [json.loads(line).get("request_key") for line in out.lines[-2:]] == ["slack:T1:trig"] * 2


async def test_logs_supervisor_binds_the_surface_name() -> None:
    async def run() -> None:
        log.info("serving")
        raise asyncio.CancelledError

    with captured("json") as out, pytest.raises(asyncio.CancelledError):
        await supervise(SurfaceStatus("discord"), run, FakeClock())

    assert json.loads(out.lines[-1])["surface"] == "discord"


@pytest.mark.parametrize(
    ("text", "leak"),
    [
        ("token xoxb-1234-5678-abcdefgh in a message", "xoxb-1234-5678-abcdefgh"),
        ("app token xapp-1-A01-123-abcdef", "xapp-1-A01-123-abcdef"),
        ("key=sk-proj-abcdefghijklmnop", "sk-proj-abcdefghijklmnop"),
        ("Authorization: Bot MTIzNDU2Nzg5.abcdef.ghijklmnop", "MTIzNDU2Nzg5.abcdef.ghijklmnop"),
        ("Authorization: Bearer abcdefghijklmnop", "abcdefghijklmnop"),
        (
            "discord MTIzNDU2Nzg5MDEyMzQ1Njc4OTA.GhIjKl.abcdefghijklmnopqrstuvwxyz012",
            "MTIzNDU2Nzg5MDEyMzQ1Njc4OTA.GhIjKl.abcdefghijklmnopqrstuvwxyz012",
        ),
        ("postgresql://bot:hunter2pass@db/jokebot", "hunter2pass"),
    ],
)
def test_logs_redact_masks_token_shapes(text: str, leak: str) -> None:
    masked = logs.redact(text)

    assert leak not in masked
    assert logs.MASK in masked


def test_logs_redact_leaves_ordinary_text_and_ids_alone() -> None:
    text = "run discord:123:4:0 effect slack:T1:trig:2:0 took 1.5 s; sk- is not a key"

    assert logs.redact(text) == text


def test_logs_redacting_filter_masks_known_secrets_in_message_args_and_traceback() -> None:
    secret = "plain-looking-secret-value"  # noqa: S105  # the test's own fake secret
    with captured("json", redact=(secret, "short")) as out:
        log.info("got %s", secret)
        try:
            raise RuntimeError(f"failed with {secret}")
        except RuntimeError:
            log.exception("call failed")
        log.info("a short word")

    assert all(secret not in line for line in out.lines)
    assert json.loads(out.lines[-3])["message"] == f"got {logs.MASK}"
    assert json.loads(out.lines[-1])["message"] == "a short word"  # too short to be a secret


def test_logs_handler_writes_json_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    handler = logs.handler("json", ("xoxb-should-not-appear",))
    record = log.makeRecord(
        "x", logging.INFO, __file__, 1, "t=%s", ("xoxb-should-not-appear",), None
    )

    handler.handle(record)

    line = json.loads(capsys.readouterr().err)
    assert line["message"] == f"t={logs.MASK}"


def test_logs_settings_log_format_is_validated() -> None:
    assert load_settings(_env_file=None, log_format="JSON").log_format == "json"
    with pytest.raises(Exception, match="LOG_FORMAT must be text or json"):
        load_settings(_env_file=None, log_format="xml")


def test_logs_cli_installs_the_json_handler(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLACK_"))}
    env.update(LOG_FORMAT="json", LOG_LEVEL="DEBUG", PYTHONPATH=str(ROOT))
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'j.db'}"

    done = subprocess.run(
        [sys.executable, "-m", "bot", "init-db"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert lines, "asyncio logs its selector at DEBUG"
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
