"""The terminal adapter: in process over the real core, and as `jokebot chat` through pipes.

The review scenarios (approve, redraft, edit, reason, restart, expiry, model down) run on the
terminal too, in ``tests/e2e/scenarios``; these are the terminal's own cases.
"""

import io
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from adapters.terminal import ChatApp, LineReader, TerminalSender
from tests.support.llm import FakeLLM
from tests.support.llm_server import FakeOpenAIServer, completion
from tests.support.stack import Stack, joke_stack

REPO = Path(__file__).resolve().parents[2]  # the child runs this checkout, not the installed one
JOKES = (
    "Why do cats love boxes? Free rent and no questions asked.",
    "What do you call a pile of cats? A meowtain.",
    "Why was the kitten so calm? It had nine lives of practice.",
)


async def chat(stack: Stack, script: str) -> tuple[int, str]:
    out = io.StringIO()
    sender = TerminalSender(out)
    stack.register("terminal", sender)
    app = ChatApp(
        stack.service,
        sender,
        LineReader(io.StringIO(script)),
        out,
        user="tester",
        model_label="FakeLLM",
        tty=False,
    )
    status = await app.run()
    return status, out.getvalue()


async def test_terminal_bad_topic_and_unknown_command_are_explained(tmp_path: Path) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM(*JOKES)) as stack:
        _, out = await chat(stack, "   \ncats\nmaybe\napprove\n")

    assert "topic" in out.lower().split("topic for a joke")[1]  # the refusal names the topic
    assert "Type approve, reject [reason], edit, or quit." in out
    assert f"To the audience: {JOKES[0]}" in out


async def test_terminal_status_lists_the_sessions_requests_and_drafts_nothing(
    tmp_path: Path,
) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM(*JOKES)) as stack:
        _, out = await chat(stack, "status\ncats\napprove\nStatus\n")

    before, after = out.split("To the audience:")
    assert "no joke requests in progress" in before
    assert "✅ “cats”: approved just now" in after
    assert "You can ask for another joke now." in after
    assert out.count("Draft 1 of") == 1  # "status" asked for no joke


def chat_env(db: Path, server: FakeOpenAIServer) -> dict[str, str]:
    """The environment of a `jokebot chat` process on ``db`` drafting with ``server``."""
    return {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "HOME": str(db.parent),
        "DATABASE_URL": f"sqlite:///{db}",
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_MODEL": "test-model",
    }


def run_chat(db: Path, server: FakeOpenAIServer, script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input=script,
        capture_output=True,
        text=True,
        env=chat_env(db, server),
        cwd=db.parent,
        timeout=60,
        check=False,
    )


@contextmanager
def chat_on_pty(
    db: Path, server: FakeOpenAIServer
) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """`jokebot chat` on a pseudo-terminal: (the process, the terminal's fd); killed on exit."""
    primary, replica = pty.openpty()
    child = subprocess.Popen(
        [sys.executable, "-m", "bot", "chat"],
        stdin=replica,
        stdout=replica,
        stderr=replica,
        env=chat_env(db, server),
        cwd=db.parent,
    )
    os.close(replica)
    try:
        yield child, primary
    finally:
        child.kill()
        child.wait()
        os.close(primary)


def test_jokebot_chat_through_pipes_quit_and_resume_across_processes(tmp_path: Path) -> None:
    db = tmp_path / "chat.db"
    with FakeOpenAIServer() as server:
        server.script(completion(JOKES[0]), completion(JOKES[1]))
        first = run_chat(db, server, "cats\nreject\nquit\n")
        second = run_chat(db, server, "y\napprove\n")

    assert first.returncode == 0, first.stderr
    assert "Draft 2 of 5" in first.stdout
    assert "1 draft(s) kept" in first.stdout
    assert second.returncode == 0, second.stderr
    assert "is still waiting" in second.stdout
    assert f"📣 To the audience: {JOKES[1]}" in second.stdout
    assert "test-model via 127.0.0.1" in first.stdout  # honest label of what drafts


def test_jokebot_chat_reports_a_bad_setting_with_exit_status_2(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(REPO), "REVIEW_TIMEOUT_S": "soon"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        input="",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )

    assert result.returncode == 2
    assert "REVIEW_TIMEOUT_S" in result.stderr
    assert "Traceback" not in result.stderr


def read_until(fd: int, marker: str, timeout: float = 30.0) -> str:
    """Read the pty until ``marker`` appears (or fail after ``timeout`` seconds)."""
    buffer = ""
    deadline = time.monotonic() + timeout
    while marker not in buffer:
        left = deadline - time.monotonic()
        assert left > 0, f"{marker!r} never appeared; screen so far:\n{buffer}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                buffer += os.read(fd, 4096).decode("utf-8", "replace")
            except OSError:  # the child closed the pty
                break
    return buffer


def test_jokebot_chat_on_a_terminal_shows_a_spinner_and_takes_decisions(tmp_path: Path) -> None:
    db = tmp_path / "tty.db"
    with FakeOpenAIServer() as server:
        server.script(replace(completion(JOKES[0]), delay=0.5))  # the spinner turns meanwhile
        with chat_on_pty(db, server) as (child, primary):
            read_until(primary, "Topic for a joke")
            os.write(primary, b"cats\n")
            drafting = read_until(primary, "quit: ")
            os.write(primary, b"approve\n")
            published = read_until(primary, "Topic for a joke")
            os.write(primary, b"quit\n")
            status = child.wait(timeout=30)

    assert "drafting…" in drafting  # the spinner, drawn with carriage returns
    assert "\r" in drafting
    assert JOKES[0] in drafting
    assert f"To the audience: {JOKES[0]}" in published
    assert status == 0


def test_sigterm_while_a_draft_waits_keeps_it_for_the_next_session(tmp_path: Path) -> None:
    db = tmp_path / "term.db"
    with FakeOpenAIServer() as server:
        server.script(completion(JOKES[0]))
        with chat_on_pty(db, server) as (child, primary):
            read_until(primary, "Topic for a joke")
            os.write(primary, b"cats\n")
            read_until(primary, "quit: ")
            child.send_signal(signal.SIGTERM)
            stopped = read_until(primary, "pending drafts are kept")
            status = child.wait(timeout=30)
        resumed = run_chat(db, server, "y\napprove\n")

    assert status == 128 + signal.SIGTERM
    assert "Stopped (SIGTERM)" in stopped
    assert f"📣 To the audience: {JOKES[0]}" in resumed.stdout
