"""Error types: BotError for bugs and operations, UserFacingError whose text users may see."""


class BotError(Exception):
    """Base class of jokebot's own errors."""


class UserFacingError(BotError):
    """An error whose ``str()`` is safe and useful to show to the person who caused it."""


class ConfigError(UserFacingError):
    """A missing or invalid setting; the message names the setting."""


class BadRequest(UserFacingError):
    """A request we refuse (empty topic, malformed payload); nothing was changed."""


class LLMError(UserFacingError):
    """The language model could not produce a draft.

    ``kind`` tells callers what went wrong: ``auth``, ``unreachable``, ``unknown_model``,
    ``rate_limited``, ``timeout``, ``bad_response`` or ``unavailable``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class SendError(BotError):
    """A platform refused or failed an outbox effect.

    ``retryable``: True when trying again later may succeed (429, 5xx, outage) and the effect
    is known not to have been applied; False when it never will (missing permission).
    """

    def __init__(self, message: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after


class OutcomeUnknown(BotError):
    """The request may or may not have been applied (timeout, response lost): reconcile first."""


class CannotReconcile(BotError):
    """The platform cannot tell whether an effect was applied (dedupe window passed, no lookup)."""


class StoreConflict(BotError):
    """A transaction lost a race in the database (deadlock, serialization failure).

    It was rolled back: nothing of it was written, and doing the same work again may succeed.
    """


class LeaseLost(BotError):
    """This process no longer holds the lease that work needs (a shard's): stop that work."""
