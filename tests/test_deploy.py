"""``deploy/``: the systemd unit passes ``systemd-analyze``; the image files agree with the project.

The container image and compose file are built and run for real by ``make container-test``
(``tests/container/smoke.sh``: root podman, minutes for the first build), not here. These
tests keep them consistent with pyproject.toml and the Makefile on every run, and check the
unit with systemd's own verifier. The unit is started under a real systemd (in a container)
by ``make container-test`` only: these machines do not run systemd as PID 1.
"""

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNIT = DEPLOY / "jokebot.service"
EXEC_START = "/opt/jokebot/.venv/bin/jokebot"
SYSTEMD_UNITS = Path("/usr/lib/systemd/system")


def unit_settings(path: Path) -> dict[str, list[str]]:
    """``Section.Key`` → every value given (systemd allows a key more than once)."""
    settings: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.setdefault(f"{section}.{key}", []).append(value)
    return settings


def one(settings: dict[str, list[str]], key: str) -> str:
    (value,) = settings[key]
    return value


def test_unit_runs_serve_unprivileged_and_hardened() -> None:
    unit = unit_settings(UNIT)
    assert one(unit, "Service.ExecStart") == f"{EXEC_START} serve"
    assert one(unit, "Service.User") not in ("", "root", "0")
    assert one(unit, "Service.EnvironmentFile") == "/etc/jokebot/jokebot.env"
    assert one(unit, "Service.Restart") == "on-failure"
    assert one(unit, "Service.SuccessExitStatus") == "143"  # serve's exit status on SIGTERM
    assert one(unit, "Service.ProtectSystem") == "strict"
    assert one(unit, "Service.NoNewPrivileges") == "yes"
    # The default database is in the one writable directory.
    state = "/var/lib/" + one(unit, "Service.StateDirectory")
    assert one(unit, "Service.ReadWritePaths") == state
    assert f"DATABASE_URL=sqlite:///{state}/jokebot.db" in unit["Service.Environment"]
    assert one(unit, "Install.WantedBy") == "multi-user.target"


def systemd_analyze() -> str:
    """The path of ``systemd-analyze``, or skip (fail under CI where systemd is installed)."""
    found = shutil.which("systemd-analyze")
    if found:
        return found
    expected = Path("/lib/systemd/systemd").exists()  # the systemd package ships both
    if os.environ.get("CI") == "true" and expected:
        pytest.fail("systemd is installed but systemd-analyze is not on PATH")
    pytest.skip("systemd-analyze is not installed (Debian: apt-get install systemd)")


@pytest.fixture
def unit_root(tmp_path: Path) -> Path:
    """A root for ``--root``: systemd's own units, the unit installed, its ExecStart present."""
    if not (SYSTEMD_UNITS / "sysinit.target").exists():
        pytest.skip(f"no systemd units in {SYSTEMD_UNITS} to verify against")
    shutil.copytree(SYSTEMD_UNITS, tmp_path / SYSTEMD_UNITS.relative_to("/"), symlinks=True)
    installed = tmp_path / "etc/systemd/system" / UNIT.name
    installed.parent.mkdir(parents=True)
    shutil.copy2(UNIT, installed)
    # verify checks that ExecStart is an executable; the real one is the venv's console script
    # (tests/test_packaging.py installs and runs it).
    stub = tmp_path / EXEC_START.lstrip("/")
    stub.parent.mkdir(parents=True)
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    return tmp_path


def test_systemd_analyze_verify_is_silent(unit_root: Path) -> None:
    analyze = systemd_analyze()
    done = subprocess.run(
        [analyze, "verify", f"--root={unit_root}", UNIT.name],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # verify exits 0 on unknown keys and bad values too, warning on stderr: demand silence.
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_systemd_analyze_security_rates_the_unit_ok(unit_root: Path) -> None:
    analyze = systemd_analyze()
    done = subprocess.run(
        [analyze, "security", "--offline=yes", f"--root={unit_root}", UNIT.name],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = re.search(r"Overall exposure level for \S+: ([\d.]+) (\w+)", done.stdout)
    assert found, done.stdout
    assert float(found.group(1)) <= 2.0, done.stdout  # 10 is systemd's "UNSAFE" default


def test_containerfile_agrees_with_the_project() -> None:
    text = (DEPLOY / "Containerfile").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    llama = next(d for d in project["project"]["dependencies"] if d.startswith("llama-cpp-python"))
    assert f"pip install --no-cache-dir {llama}\n" in text  # the cached layer uses the same pin
    makefile = (ROOT / "Makefile").read_text()
    flags = re.search(r"^LLAMA_CMAKE_ARGS \?= (.+)$", makefile, re.MULTILINE)
    assert flags is not None
    assert f'CMAKE_ARGS="{flags.group(1)}"' in text  # the same portable build
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) == 2  # build stage, runtime stage
    (user,) = re.findall(r"^USER (\S+)$", text, re.MULTILINE)
    assert user.split(":")[0] not in ("root", "0")
    assert re.search(r"^HEALTHCHECK .*\n.*jokebot health", text, re.MULTILINE)
    assert 'ENTRYPOINT ["jokebot"]\nCMD ["serve"]' in text
    copied = re.findall(r"^COPY (?!--)(\S+)", text, re.MULTILINE)
    packages = [p.rstrip("*") for p in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    assert sorted(copied) == sorted(["pyproject.toml", *packages])
    assert "README.md" in text  # pyproject's readme, needed to build


def test_build_context_leaves_out_the_venv_and_git() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".venv", ".git", "**/__pycache__", ".env", "*.db"} <= set(ignored)


def test_compose_runs_the_image_with_postgres_and_health_checks() -> None:
    text = (DEPLOY / "compose.yaml").read_text()
    assert "dockerfile: deploy/Containerfile" in text
    assert "DATABASE_URL: postgresql://jokebot:${POSTGRES_PASSWORD}@db:5432/jokebot" in text
    assert text.count("healthcheck:") == 2  # db (pg_isready) and bot (jokebot health)
    assert 'test: ["CMD-SHELL", "jokebot health || exit 1"]' in text
    assert '"127.0.0.1:${JOKEBOT_HEALTH_PORT:-8081}:8081"' in text  # loopback only
    assert "condition: service_healthy" in text
