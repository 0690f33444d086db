"""JokeOptions: the one set of plain values the joke flow, the service and the runtime take."""

from dataclasses import dataclass, fields

from bot.joke.screen import DEFAULT_THRESHOLD


@dataclass(frozen=True)
class JokeOptions:
    """Built from ``Settings`` by the wiring, or directly by a test; every default lives here.

    Attributes:
        max_attempts: drafts shown to moderators before the request gives up.
        review_timeout_s: seconds a review card waits before the request expires.
        topic_max_len: longest topic in characters (longer ones are cut).
        joke_max_len: longest joke (and moderator edit) in characters.
        retry_s: seconds between model attempts while it is down.
        max_llm_failures: consecutive model failures before the request gives up.
        max_screen_retries: drafts screened out for one review attempt before giving up.
        cooldown_s: minimum seconds between two requests of one user (the service).
        scope_max_active: requests of one scope drafting or in review at once (the service);
            more wait in line, first come first served (0: no limit).
        concurrency: runs drafting at once (the runtime); a remote LLM serves many in parallel.
        screen_threshold: the classifier score (0-1) from which a draft is screened out,
            for scopes that set none of their own.
    """

    max_attempts: int = 5
    review_timeout_s: float = 86400.0
    topic_max_len: int = 100
    joke_max_len: int = 300
    retry_s: float = 60.0
    max_llm_failures: int = 5
    max_screen_retries: int = 4
    cooldown_s: float = 30.0
    scope_max_active: int = 5
    concurrency: int = 16
    screen_threshold: float = DEFAULT_THRESHOLD

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            least = 0 if f.name == "scope_max_active" else 1
            if f.type is int and value < least:
                raise ValueError(f"{f.name} must be at least {least}")
        if not 0 < self.screen_threshold <= 1:
            raise ValueError("screen_threshold must be above 0 and at most 1")
