"""The joke flow's wiring: every node and the actions that connect them."""

from bot.ports import LLM
from flows.engine import AsyncFlow
from flows.joke._draft import DraftJoke
from flows.joke._finish import (
    CancelRequest,
    ExpireRequest,
    GiveUp,
    PublishJoke,
    ReportModelDown,
    ReportNoCleanJoke,
)
from flows.joke._review import AwaitReview, WaitForModel
from flows.joke._state import (
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


class JokeFlow(AsyncFlow):
    """The joke flow's identity in checkpoints."""

    flow_id = "joke"
    flow_version = 1


def build_joke_flow(
    llm: LLM,
    *,
    max_attempts: int = 5,
    review_timeout_s: float | None = 86400.0,
    joke_max_len: int = 300,
    retry_s: float = 60.0,
    max_llm_failures: int = 5,
    max_screen_retries: int = 4,
) -> AsyncFlow:
    """The joke flow wired to ``llm``.

    Args:
        llm: the chat model.
        max_attempts: drafts shown to moderators, for states that do not carry their own.
        review_timeout_s: seconds a review card waits before the request expires.
        joke_max_len: longest joke (and moderator edit) in characters.
        retry_s: seconds between model attempts while it is down.
        max_llm_failures: consecutive model failures before giving up.
        max_screen_retries: drafts screened out for one review attempt before giving up.
    """
    for name, value in (
        ("max_attempts", max_attempts),
        ("max_llm_failures", max_llm_failures),
        ("max_screen_retries", max_screen_retries),
    ):
        if value < 1:
            raise ValueError(f"{name} must be at least 1")
    draft = DraftJoke(
        llm,
        joke_max_len=joke_max_len,
        max_screen_retries=max_screen_retries,
        max_llm_failures=max_llm_failures,
        retry_s=retry_s,
    )
    review = AwaitReview(
        max_attempts=max_attempts, review_timeout_s=review_timeout_s, joke_max_len=joke_max_len
    )
    wait = WaitForModel(retry_s=retry_s)
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
