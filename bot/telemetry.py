"""Telemetry: the port through which the service, the runtime and the LLM report what happened.

Each event is reported once, at the one place it happens, after its transaction committed.
:class:`NoTelemetry` is the default (tests, tools); ``bot.ops.metrics.PrometheusTelemetry``
turns the events into Prometheus metrics for ``jokebot serve``.
"""

from collections.abc import Mapping
from typing import Any, Protocol


class Telemetry(Protocol):
    """What the core reports; implementations must be cheap and never raise."""

    def requested(self, platform: str, outcome: str) -> None:
        """A ``/joke`` request was answered: accepted, refused, failed or duplicate."""
        ...

    def decided(self, surface: str, outcome: str) -> None:
        """A click was answered (a ``DecideStatus``), or the timer closed a review (system)."""
        ...

    def review_closed(self, action: str, seconds: float) -> None:
        """A review was decided ``seconds`` after its card was posted."""
        ...

    def flow_event(self, flow: str, event: str, data: Mapping[str, Any]) -> None:
        """A flow's own audit event was committed (e.g. the joke flow's ``screened_out``)."""
        ...

    def effect_settled(self, kind: str, status: str) -> None:
        """An outbox effect reached a final state: done, failed or uncertain."""
        ...

    def run_failed(self, flow: str) -> None:
        """A run raised and was stopped."""
        ...

    def llm_call(self, seconds: float, error_kind: str | None) -> None:
        """One completion took ``seconds``; ``error_kind`` is set when it failed."""
        ...


class NoTelemetry:
    """Reports nowhere."""

    def requested(self, platform: str, outcome: str) -> None:
        pass

    def decided(self, surface: str, outcome: str) -> None:
        pass

    def review_closed(self, action: str, seconds: float) -> None:
        pass

    def flow_event(self, flow: str, event: str, data: Mapping[str, Any]) -> None:
        pass

    def effect_settled(self, kind: str, status: str) -> None:
        pass

    def run_failed(self, flow: str) -> None:
        pass

    def llm_call(self, seconds: float, error_kind: str | None) -> None:
        pass
