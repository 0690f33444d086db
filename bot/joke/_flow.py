"""The joke flow's wiring: every node and the actions that connect them."""

from dataclasses import replace
from typing import Any

from bot.joke._draft import DraftJoke
from bot.joke._finish import (
    CancelRequest,
    ExpireRequest,
    GiveUp,
    PublishJoke,
    ReportModelDown,
    ReportNoCleanJoke,
)
from bot.joke._options import JokeOptions
from bot.joke._review import AwaitReview, WaitForModel
from bot.joke._state import (
    APPROVE,
    CANCEL,
    DRAFTED,
    EDIT,
    GIVE_UP,
    MODEL_DOWN,
    NO_CLEAN_JOKE,
    REJECT,
    RETRY,
    SCREENED,
    TIMEOUT,
    UNAVAILABLE,
)
from bot.ports import LLM, Classifier, DraftProgress
from flows import AsyncFlow


class JokeFlow(AsyncFlow):
    """The joke flow's identity in checkpoints."""

    flow_id = "joke"
    flow_version = 1


def build_joke_flow(
    llm: LLM,
    options: JokeOptions | None = None,
    *,
    classifier: Classifier | None = None,
    progress: DraftProgress | None = None,
    **changes: Any,
) -> AsyncFlow:
    """The joke flow wired to ``llm``, with ``options`` (defaults) and any ``changes`` to them.

    ``classifier`` scores every draft (None: the screen has no classifier part).
    ``max_attempts`` and ``screen_threshold`` apply to states that do not carry their own (see
    new_joke_state). With ``progress`` the model streams and the drafting is published there
    as it happens.
    """
    opts = replace(options or JokeOptions(), **changes)
    draft = DraftJoke(
        llm,
        joke_max_len=opts.joke_max_len,
        max_screen_retries=opts.max_screen_retries,
        max_llm_failures=opts.max_llm_failures,
        retry_s=opts.retry_s,
        classifier=classifier,
        screen_threshold=opts.screen_threshold,
        progress=progress,
    )
    review = AwaitReview(
        max_attempts=opts.max_attempts,
        review_timeout_s=opts.review_timeout_s,
        joke_max_len=opts.joke_max_len,
        progress=progress,
    )
    wait = WaitForModel(retry_s=opts.retry_s)
    publish = PublishJoke()
    draft - DRAFTED >> review
    draft - SCREENED >> draft
    draft - NO_CLEAN_JOKE >> ReportNoCleanJoke()
    draft - UNAVAILABLE >> wait
    draft - MODEL_DOWN >> ReportModelDown()
    review - APPROVE >> publish
    review - EDIT >> publish
    review - REJECT >> draft
    review - GIVE_UP >> GiveUp()
    review - TIMEOUT >> ExpireRequest()
    wait - RETRY >> draft
    wait - CANCEL >> CancelRequest()
    return JokeFlow(start=draft)
