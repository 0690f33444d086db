"""PrometheusTelemetry: the core's events as Prometheus counters and histograms.

Every instance owns its :class:`CollectorRegistry` (never the global default), so each core,
and each test, counts on its own. The gauges that describe the database are read from the
store at scrape time instead (:mod:`bot.ops.gauges`). docs/operations.md lists every metric.
"""

from collections.abc import Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

# the joke flow's audit events that get a metric of their own (all are in flow_events_total)
DRAFT_EVENT, SCREENED_EVENT = "review_requested", "screened_out"
LLM_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 30.0, 60.0)
DECISION_BUCKETS = (10.0, 30.0, 60.0, 300.0, 900.0, 1800.0, 3600.0, 10800.0, 43200.0, 86400.0)


class PrometheusTelemetry:
    """A :class:`bot.telemetry.Telemetry` that counts into its own registry."""

    def __init__(self) -> None:
        self.registry = reg = CollectorRegistry()
        self.requests = Counter(
            "jokebot_requests", "/joke requests answered", ["platform", "outcome"], registry=reg
        )
        self.drafts = Counter("jokebot_drafts", "drafts shown to moderators", registry=reg)
        self.screened_out = Counter(
            "jokebot_screened_out", "drafts thrown away before review", ["reason"], registry=reg
        )
        self.flow_events = Counter(
            "jokebot_flow_events", "flow audit events", ["flow", "event"], registry=reg
        )
        self.decisions = Counter(
            "jokebot_decisions",
            "clicks answered, and reviews closed by the timer",
            ["outcome", "surface"],
            registry=reg,
        )
        self.time_to_decision = Histogram(
            "jokebot_time_to_decision_seconds",
            "card posted to review decided",
            ["action"],
            buckets=DECISION_BUCKETS,
            registry=reg,
        )
        self.effects = Counter(
            "jokebot_effects", "outbox effects settled", ["kind", "status"], registry=reg
        )
        self.runs_failed = Counter(
            "jokebot_runs_failed", "runs stopped by an error", ["flow"], registry=reg
        )
        self.llm_seconds = Histogram(
            "jokebot_llm_request_seconds",
            "LLM completion latency (failures included)",
            buckets=LLM_BUCKETS,
            registry=reg,
        )
        self.llm_failures = Counter(
            "jokebot_llm_failures", "LLM completions that failed", ["kind"], registry=reg
        )

    def requested(self, platform: str, outcome: str) -> None:
        self.requests.labels(platform, outcome).inc()

    def decided(self, surface: str, outcome: str) -> None:
        self.decisions.labels(outcome, surface).inc()

    def review_closed(self, action: str, seconds: float) -> None:
        self.time_to_decision.labels(action).observe(max(0.0, seconds))

    def flow_event(self, flow: str, event: str, data: Mapping[str, Any]) -> None:
        self.flow_events.labels(flow, event).inc()
        if event == DRAFT_EVENT:
            self.drafts.inc()
        elif event == SCREENED_EVENT:
            self.screened_out.labels(str(data.get("reason", ""))).inc()

    def effect_settled(self, kind: str, status: str) -> None:
        self.effects.labels(kind, status).inc()

    def run_failed(self, flow: str) -> None:
        self.runs_failed.labels(flow).inc()

    def llm_call(self, seconds: float, error_kind: str | None) -> None:
        self.llm_seconds.observe(seconds)
        if error_kind is not None:
            self.llm_failures.labels(error_kind).inc()
