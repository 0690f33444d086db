"""``jokebot console`` end to end: it serves, prints a login link that signs in once, stops."""

import asyncio
import contextlib
import re
from pathlib import Path

import aiohttp
import pytest

from bot.app import run_console, run_serve
from bot.app._console import serving_console
from bot.config import load_settings
from bot.errors import ConfigError
from tests.support.console import console_harness

LINK = re.compile(r"(http://127\.0\.0\.1:\d+)/login/(\S+)")


async def test_jokebot_console_prints_a_login_link_that_signs_in(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        openai_base_url="http://127.0.0.1:9/v1",  # never called: nothing is drafted here
        console_secret_file=str(tmp_path / "secret"),
    )
    lines: list[str] = []
    task = asyncio.create_task(run_console(settings, host="127.0.0.1", port=0, say=lines.append))
    try:
        for _ in range(400):
            if any(LINK.search(line) for line in lines) or task.done():
                break
            await asyncio.sleep(0.05)
        found = next(m for line in lines if (m := LINK.search(line)))
        base, token = found.group(1), found.group(2)
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            async with http.get(f"{base}/login/{token}") as page:
                csrf = re.search(r'name="csrf" value="([^"]+)"', await page.text())
            assert csrf is not None
            async with http.post(f"{base}/login/{token}", data={"csrf": csrf.group(1)}) as r:
                queue = await r.text()
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    assert "local admin · admin" in queue
    assert (tmp_path / "secret").exists()


async def test_serve_refuses_a_public_console_without_secret_and_provider(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        database_url=f"sqlite:///{tmp_path / 'bot.db'}",
        console_host="0.0.0.0",  # noqa: S104
        console_port=8099,
    )

    with pytest.raises(ConfigError, match="beyond this machine"):
        await run_serve(settings, say=lambda _: None)


async def test_console_on_a_port_in_use_is_a_config_error(tmp_path: Path) -> None:
    async with console_harness(tmp_path) as web:
        taken = int(web.base.rsplit(":", 1)[1])
        with pytest.raises(ConfigError, match="cannot serve the console"):
            async with serving_console(web.console, "127.0.0.1", taken):
                pass
