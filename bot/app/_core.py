"""Wiring: the platform-free core (store, joke flow, runtime, service) and how it serves."""

import asyncio
import functools
import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass

from bot.classifier import ProfanityCheck
from bot.clock import SystemClock
from bot.config import Settings
from bot.joke import JokeOptions, build_joke_flow, request_state
from bot.llm.probe import ObservedLLM
from bot.ops.metrics import PrometheusTelemetry
from bot.ports import LLM, Classifier, Clock, EffectSender
from bot.progress import ProgressHub
from bot.runtime import CrashPoints, Runtime
from bot.service import JokeService
from bot.store import Store, open_store

log = logging.getLogger(__name__)


def options_from(settings: Settings) -> JokeOptions:
    """The options ``Settings`` configures (the rest keep JokeOptions' defaults)."""
    return JokeOptions(
        max_attempts=settings.max_attempts,
        review_timeout_s=settings.review_timeout_s,
        topic_max_len=settings.topic_max_len,
        joke_max_len=settings.joke_max_len,
        cooldown_s=settings.cooldown_s,
        screen_threshold=settings.screen_threshold,
    )


@dataclass
class Core:
    """The platform-free heart of a running bot: store, runtime and the service adapters call."""

    store: Store
    runtime: Runtime
    service: JokeService
    llm: LLM
    observed: ObservedLLM  # the llm as the flow calls it: timed, its last outcome kept
    clock: Clock
    telemetry: PrometheusTelemetry  # this core's own metrics registry
    classifier: Classifier  # the screen's; warmed up in the background by serving()
    progress: ProgressHub  # drafting progress, for pages that watch a draft being written

    def register_sender(self, platform: str, sender: EffectSender) -> None:
        """Deliver the effects of ``platform``'s runs through ``sender``."""
        self.runtime.register_sender(platform, sender)

    @asynccontextmanager
    async def serving(self) -> AsyncIterator["Core"]:
        """Recover, then run the runtime's loops in the background until the block exits.

        Register the senders first: recovery delivers the effects left in flight, and an
        effect whose platform has no sender yet waits a retry interval. The classifier scores
        one text in the background meanwhile, so its model is loaded before the first draft.
        """
        await self.runtime.recover()
        task = asyncio.create_task(self.runtime.serve(), name="runtime")
        warm = asyncio.create_task(self._warm_classifier(), name="classifier-warm-up")
        try:
            yield self
        finally:
            for background in (warm, task):
                background.cancel()
                with suppress(asyncio.CancelledError):
                    await background
            await self.runtime.release()

    async def _warm_classifier(self) -> None:
        try:
            await self.classifier.score("warm-up")
        except Exception:  # the first draft tries again and fails its run visibly
            log.exception("the screen's classifier (%s) failed to load", self.classifier.name)


@asynccontextmanager
async def open_core(
    *,
    database_url: str,
    llm: LLM,
    classifier: Classifier | None = None,
    clock: Clock | None = None,
    options: JokeOptions | None = None,
    runner_id: str | None = None,
    crash: CrashPoints | None = None,
    poll_s: float = 5.0,
) -> AsyncIterator[Core]:
    """Open the store and build flow, runtime and service; close the store on exit.

    ``classifier`` screens every draft; by default alt-profanity-check (``ProfanityCheck``),
    whose model loads in a worker thread on the first draft.
    Nothing runs yet: register the senders, then ``async with core.serving():``.
    """
    options = options or JokeOptions()
    classifier = classifier or ProfanityCheck()
    clock = clock or SystemClock()
    store = await open_store(database_url)
    telemetry = PrometheusTelemetry()
    observed = ObservedLLM(llm, clock, telemetry.llm_call)
    progress = ProgressHub()
    try:
        runtime = Runtime(
            store,
            {"joke": build_joke_flow(observed, options, classifier=classifier, progress=progress)},
            None,
            clock,
            runner_id=runner_id or f"{socket.gethostname()}:{os.getpid()}",
            crash=crash,
            poll_s=poll_s,
            concurrency=options.concurrency,
            telemetry=telemetry,
        )
        service = JokeService(
            runtime,
            store,
            clock,
            functools.partial(request_state, options=options),
            cooldown_s=options.cooldown_s,
            telemetry=telemetry,
            progress=progress,
        )
        yield Core(store, runtime, service, llm, observed, clock, telemetry, classifier, progress)
    finally:
        await store.close()
