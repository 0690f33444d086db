"""The "try it" page in a real browser (Debian's Chromium via Playwright): a topic typed, the
draft appearing word by word over the WebSocket, then "in the queue".

The page is served by uvicorn in the test's event loop next to the real core; the model is
the real openai client streaming from the fake server, which holds the stream midway so the
test can look at the half-written draft. ``base.html`` is a stand-in here (the console's own
layout provides it in the app).
"""

import asyncio
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from fastapi import FastAPI, WebSocket
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from jinja2 import ChoiceLoader, DictLoader, Environment, PackageLoader, select_autoescape
from playwright.async_api import async_playwright

from adapters.console._try_ws import QUEUED, try_router
from bot.joke import JokeOptions
from bot.llm import OpenAIChat
from bot.models import Actor, Origin, Surface
from tests.support.browser import require_chromium
from tests.support.classifier import FakeClassifier
from tests.support.llm_server import FakeOpenAIServer, streamed
from tests.support.platform import FakePlatform
from tests.support.stack import Stack, joke_stack

ORIGIN = Origin(
    "console",
    "web",
    Actor("console", "admin", "local admin"),
    "web",
    "web",
    "web",
    (Surface("console", "web"),),
)
PIECES = ("Why", " do", " cats", " never", " play", " poker?", " Too", " many", " cheetahs!")
BASE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{% block title %}{% endblock %}</title></head>
<body data-page="{% block page %}{% endblock %}"><main>{% block content %}{% endblock %}</main>
{% block scripts %}{% endblock %}</body></html>"""


def page_app(stack: Stack) -> FastAPI:
    templates = Environment(
        loader=ChoiceLoader(
            [DictLoader({"base.html": BASE}), PackageLoader("adapters.console", "templates")]
        ),
        autoescape=select_autoescape(),
    )

    def origin_for(websocket: WebSocket) -> Origin | None:
        return ORIGIN

    app = FastAPI()

    @app.get("/try")
    async def try_page() -> HTMLResponse:
        return HTMLResponse(templates.get_template("try.html").render())

    app.include_router(try_router(stack.service, stack.service, origin_for))
    app.mount("/static", StaticFiles(packages=[("adapters.console", "static")]), name="static")
    return app


@asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """``app`` on 127.0.0.1:<free port> in this event loop; its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def test_the_try_page_shows_the_draft_as_it_is_written(tmp_path: Path) -> None:
    chromium = require_chromium()
    hold = threading.Event()
    with FakeOpenAIServer() as llm_server:
        llm_server.script(streamed(*PIECES, fail_after=3, hold=hold))
        llm = OpenAIChat(model="test-model", base_url=llm_server.base_url, max_retries=0)
        try:
            options = JokeOptions(cooldown_s=0.0)
            async with (
                joke_stack(
                    tmp_path, llm=llm, options=options, classifier=FakeClassifier()
                ) as stack,
                served(page_app(stack)) as base,
                async_playwright() as p,
            ):
                stack.register("console", FakePlatform(stack.clock))
                browser = await p.chromium.launch(
                    executable_path=str(chromium), args=["--no-sandbox"]
                )
                try:
                    page = await browser.new_page()
                    await page.goto(f"{base}/try")
                    await page.fill("#try-topic", "cats")
                    await page.click("#try-go")

                    draft = page.locator("#try-draft")
                    # three pieces sent, the stream held: "cats" may go on ("catsup"), so the
                    # page shows the words known to be complete
                    await page.wait_for_function(
                        "document.getElementById('try-draft').textContent === 'Why do'"
                    )
                    halfway = await page.locator("#try-status").text_content()
                    hold.set()  # the model goes on writing
                    await page.locator("#try-queued").wait_for(state="visible")
                    shown = await draft.text_content()
                    status = await page.locator("#try-status").text_content()
                    await page.screenshot(path=str(tmp_path / "try-it.png"), full_page=True)
                finally:
                    await browser.close()
        finally:
            hold.set()
            await llm.close()

    assert halfway == "Writing draft 1…"
    assert shown == "".join(PIECES)
    assert status == QUEUED
