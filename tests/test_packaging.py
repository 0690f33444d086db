"""The built wheel, installed in a clean virtualenv, holds all of jokebot; ``jokebot serve`` runs.

What this proves, and what it does not:

- The wheel is built from a copy of the source tree (``pip wheel --no-deps
  --no-build-isolation``, offline) and holds every file tracked under ``bot/``, ``adapters/``
  and ``flows/`` (every module, ``py.typed``, ``bot/joke/blocklist.txt``) and nothing else
  there; its metadata declares pyproject.toml's dependencies and the ``jokebot`` console script.
- It installs with ``pip install --no-deps`` into a new virtualenv, which gets the console
  script ``bin/jokebot``. Every module imports from that virtualenv's site-packages (none from
  the source tree), and the data files are found through ``importlib.resources``.
- Third-party dependencies are *not* downloaded or compiled again (llama-cpp-python takes
  minutes): a ``.pth`` file in the new virtualenv appends the test interpreter's site-packages
  to ``sys.path``. A ``.pth`` line only appends a directory, so the editable install of the
  source tree living there (its own ``.pth`` finder) is not activated. ``pip check`` then
  checks that every requirement the wheel declares is satisfied. That the dependency ranges
  resolve from PyPI on a fresh machine is what ``make`` does on every new machine.
- ``bin/jokebot serve``, started from a temporary directory with no ``PYTHONPATH`` and only the
  settings given here (Slack in HTTP mode against the fake Slack of ``tests/support``, a SQLite
  file, an OpenAI-compatible URL that is never called), answers ``/health/live``, turns ready
  on ``/health/ready``, answers Slack's signed URL check on its events port, writes JSON logs,
  and exits with status 143 ("Stopped (SIGTERM)") on SIGTERM.
"""

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from packaging.requirements import Requirement

from tests.support.fake_slack import BOT_TOKEN, FakeSlack, signed_headers

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "adapters", "flows")
SIGNING_SECRET = "packaging-test-secret"  # noqa: S105  # a fake secret for the fake Slack
EXIT_TERMINATED = 128 + signal.SIGTERM


def free_port() -> int:
    """A port the OS just handed out on loopback (0 would turn the health server off)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_both(*cmd: str | Path, cwd: Path | None = None, timeout: float = 120) -> tuple[str, str]:
    """Run a command to completion; its stdout and stderr, or a failure showing both."""
    done = subprocess.run(
        [str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{cmd} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done.stdout, done.stderr


def run(*cmd: str | Path, cwd: Path | None = None, timeout: float = 120) -> str:
    """Run a command to completion; its stdout, or a failure showing both streams."""
    return run_both(*cmd, cwd=cwd, timeout=timeout)[0]


def tracked_files() -> list[str]:
    """Files of the three packages as git tracks them (or as they lie, outside a checkout)."""
    if shutil.which("git") and (ROOT / ".git").exists():
        out = run("git", "-C", ROOT, "ls-files", "-z", "--", *PACKAGES)
        listed = [name for name in out.split("\0") if name]
        return sorted(name for name in listed if (ROOT / name).is_file())
    return sorted(
        p.relative_to(ROOT).as_posix()
        for package in PACKAGES
        for p in (ROOT / package).rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )


@dataclass(frozen=True)
class Built:
    """The wheel and the clean virtualenv it was installed into."""

    wheel: Path
    venv: Path
    site_packages: Path
    build_log: str  # what the build backend said on stderr

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def jokebot(self) -> Path:
        return self.venv / "bin" / "jokebot"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """Build the wheel from a copy of the tree and install it into a new virtualenv."""
    base = tmp_path_factory.mktemp("packaging")
    src = base / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    for name in tracked_files():  # only tracked files: stray local files must not leak in
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    dist = base / "dist"
    pip = (sys.executable, "-m", "pip", "--disable-pip-version-check")
    _, build_log = run_both(
        *pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", dist, src
    )
    (wheel,) = dist.glob("jokebot-*.whl")

    venv = base / "venv"
    run(sys.executable, "-m", "venv", "--without-pip", venv)
    python = venv / "bin" / "python"
    run(*pip, "--python", python, "install", "--no-deps", "--no-index", wheel)
    site = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))").strip())
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    (site / "_jokebot_test_deps.pth").write_text("".join(f"{p}\n" for p in sorted(ours)))
    return Built(wheel, venv, site, build_log)


def test_wheel_holds_every_package_file(built: Built) -> None:
    with zipfile.ZipFile(built.wheel) as wheel:
        names = wheel.namelist()
    in_packages = {n for n in names if n.split("/", 1)[0] in PACKAGES}
    tops = {n.split("/", 1)[0] for n in names}
    info = "-".join(built.wheel.name.split("-")[:2]) + ".dist-info"  # jokebot-0.1.0.dist-info
    assert tops - set(PACKAGES) == {info}, "only the three packages ship"
    expected = set(tracked_files())
    assert expected - in_packages == set(), "missing from the wheel"
    assert in_packages - expected == set(), "in the wheel but not tracked"
    assert {"bot/py.typed", "adapters/py.typed", "flows/py.typed", "bot/joke/blocklist.txt"} <= (
        in_packages
    )
    every_py = {p.relative_to(ROOT).as_posix() for d in PACKAGES for p in (ROOT / d).rglob("*.py")}
    assert every_py <= in_packages, "a .py file under the packages is not in the wheel (git add?)"


def test_wheel_builds_without_deprecation_warnings(built: Built) -> None:
    # e.g. setuptools >= 77 deprecates `license = { text = ... }` (removed in 2027)
    assert "Warning" not in built.build_log, built.build_log


def test_wheel_metadata_matches_pyproject(built: Built) -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    with zipfile.ZipFile(built.wheel) as wheel:
        info = f"jokebot-{project['version']}.dist-info"
        metadata = wheel.read(f"{info}/METADATA").decode()
        entry_points = wheel.read(f"{info}/entry_points.txt").decode()
    requires = [
        line.removeprefix("Requires-Dist: ")
        for line in metadata.splitlines()
        if line.startswith("Requires-Dist: ") and "extra ==" not in line
    ]
    assert sorted(str(Requirement(r)) for r in requires) == sorted(
        str(Requirement(r)) for r in project["dependencies"]
    )
    assert "jokebot = bot.cli:main" in entry_points


IMPORT_ALL = """
import importlib, importlib.resources, json, pathlib, sys
names = json.loads(sys.argv[1])
found = {name: importlib.import_module(name).__file__ for name in names}
data = {
    f"{pkg}/{res}": importlib.resources.files(pkg).joinpath(res).is_file()
    for pkg, res in [("bot", "py.typed"), ("adapters", "py.typed"), ("flows", "py.typed"),
                     ("bot.joke", "blocklist.txt")]
}
print(json.dumps({"files": found, "data": data}))
"""


def test_every_module_imports_from_the_installed_wheel(built: Built, tmp_path: Path) -> None:
    modules = sorted(
        name.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
        for name in tracked_files()
        if name.endswith(".py") and not name.endswith("__main__.py")  # __main__ runs the CLI
    )
    # -I: no PYTHONPATH, no user site, no current directory; cwd is outside the source tree.
    out = run(built.python, "-I", "-c", IMPORT_ALL, json.dumps(modules), cwd=tmp_path)
    report = json.loads(out)
    outside = {
        m: f for m, f in report["files"].items() if not f.startswith(str(built.site_packages))
    }
    assert outside == {}, "modules imported from somewhere other than the clean virtualenv"
    assert all(report["data"].values()), report["data"]
    # The wheel's declared requirements (extras included) are all met in that environment.
    run(sys.executable, "-m", "pip", "--python", built.python, "check")


def serve_env(tmp_path: Path, *, health: int, events: int, api_base: str) -> dict[str, str]:
    """Only what ``jokebot serve`` needs: nothing from the caller's environment leaks in."""
    return {
        "PATH": os.defpath,
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'jokebot.db'}",
        "HEALTH_HOST": "127.0.0.1",
        "HEALTH_PORT": str(health),
        "LOG_FORMAT": "json",
        "LLM_PROVIDER": "openai",
        "OPENAI_BASE_URL": f"http://127.0.0.1:{free_port()}/v1",  # never called: no /joke here
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_MOD_CHANNEL": "CMOD",
        "SLACK_PUBLIC_CHANNEL": "CPUB",
        "SLACK_MODERATORS": "U0MOD",
        "SLACK_API_BASE": api_base,
        "SLACK_HTTP_PORT": str(events),
    }


@contextlib.asynccontextmanager
async def started(
    argv: list[str], env: dict[str, str], cwd: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """A child process, killed and reaped on the way out if it is still running."""
    with (cwd / "stdout.log").open("wb") as out, (cwd / "stderr.log").open("wb") as err:
        child = await asyncio.create_subprocess_exec(
            *argv, env=env, cwd=cwd, stdout=out, stderr=err
        )
        try:
            yield child
        finally:
            if child.returncode is None:
                child.kill()
                await child.wait()


async def until_ok(http: aiohttp.ClientSession, url: str, child: asyncio.subprocess.Process) -> str:
    """Poll ``url`` until it answers 200; fail at once if the child exits first."""
    async with asyncio.timeout(30):
        while True:
            assert child.returncode is None, f"jokebot serve exited {child.returncode}"
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as reply:
                    if reply.status == 200:
                        return await reply.text()
            await asyncio.sleep(0.1)


async def test_jokebot_serve_starts_from_the_wheel(built: Built, tmp_path: Path) -> None:
    health, events = free_port(), free_port()
    async with FakeSlack() as slack, aiohttp.ClientSession() as http:
        env = serve_env(tmp_path, health=health, events=events, api_base=slack.base_url)
        async with started([str(built.jokebot), "serve"], env, tmp_path) as child:
            try:
                base = f"http://127.0.0.1:{health}"
                live = json.loads(await until_ok(http, f"{base}/health/live", child))
                ready = json.loads(await until_ok(http, f"{base}/health/ready", child))
                async with http.get(f"{base}/metrics") as reply:
                    metrics = await reply.text()
                body = json.dumps({"type": "url_verification", "challenge": "from-the-wheel"})
                headers = signed_headers(SIGNING_SECRET, body) | {
                    "Content-Type": "application/json"
                }
                url = f"http://127.0.0.1:{events}/slack/events"
                # Ready means listening: HTTP mode reports connected only once it is bound.
                async with http.post(url, data=body, headers=headers) as reply:
                    challenge = reply.status, await reply.text()
            finally:
                if child.returncode is None:
                    child.send_signal(signal.SIGTERM)
                    async with asyncio.timeout(30):
                        await child.wait()
    stderr = (tmp_path / "stderr.log").read_text()
    stdout = (tmp_path / "stdout.log").read_text()

    assert live == {"status": "ok"}
    assert ready["not_ready"] == [], ready
    assert 'jokebot_surface_ready{surface="slack"} 1.0' in metrics
    assert "jokebot_store_up 1.0" in metrics
    assert challenge[0] == 200
    assert "from-the-wheel" in challenge[1]
    assert slack.calls_to("auth.test"), "the Slack preflight never reached the fake"
    assert "slack: runs (HTTP mode" in stdout
    assert child.returncode == EXIT_TERMINATED, stderr
    assert "Stopped (SIGTERM)" in stderr
    records = [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]
    assert records, stderr
    assert all({"time", "level", "logger", "message"} <= r.keys() for r in records)
    assert "Traceback" not in stderr, stderr
    assert (tmp_path / "jokebot.db").is_file()
