"""The joke flow: draft a joke, screen it, wait for a moderator, then publish, redraft or stop.

Platform-free: the review card, the public post and the notices are effects and waits that the
durable runtime delivers. Node ids are stable names stored in checkpoints: renaming one needs a
migration (and a new ``flow_version``).
"""

from bot.joke._draft import DraftJoke, DraftRequest, DraftResult
from bot.joke._finish import (
    CancelRequest,
    ExpireRequest,
    GiveUp,
    PublishJoke,
    ReportModelDown,
    ReportNoCleanJoke,
)
from bot.joke._flow import JokeFlow, build_joke_flow
from bot.joke._options import JokeOptions
from bot.joke._review import AwaitReview, WaitForModel
from bot.joke._state import (
    APPROVE,
    AUDIT,
    CANCEL,
    CANCELLED,
    DRAFTED,
    EDIT,
    EXPIRED,
    GAVE_UP,
    GIVE_UP,
    MODEL_DOWN,
    NO_CLEAN_JOKE,
    PUBLISHED,
    REJECT,
    RETRY,
    RETRY_WAIT,
    REVIEW_WAIT,
    SCREENED,
    TIMEOUT,
    UNAVAILABLE,
    JokeState,
    RejectedJoke,
    new_joke_state,
    request_state,
)

__all__ = [
    "APPROVE",
    "AUDIT",
    "CANCEL",
    "CANCELLED",
    "DRAFTED",
    "EDIT",
    "EXPIRED",
    "GAVE_UP",
    "GIVE_UP",
    "MODEL_DOWN",
    "NO_CLEAN_JOKE",
    "PUBLISHED",
    "REJECT",
    "RETRY",
    "RETRY_WAIT",
    "REVIEW_WAIT",
    "SCREENED",
    "TIMEOUT",
    "UNAVAILABLE",
    "AwaitReview",
    "CancelRequest",
    "DraftJoke",
    "DraftRequest",
    "DraftResult",
    "ExpireRequest",
    "GiveUp",
    "JokeFlow",
    "JokeOptions",
    "JokeState",
    "PublishJoke",
    "RejectedJoke",
    "ReportModelDown",
    "ReportNoCleanJoke",
    "WaitForModel",
    "build_joke_flow",
    "new_joke_state",
    "request_state",
]
