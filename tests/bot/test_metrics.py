"""Metrics: counters agree with the audit log after a scripted run; documented metrics exist."""

import json
import re
from collections import Counter
from pathlib import Path

import aiohttp
from prometheus_client import CollectorRegistry

from bot.joke import JokeOptions
from bot.models import Actor, DecisionRequest, JokeRequest, Origin, ScopeConfig
from bot.ops import Readiness, ops_app, serving_ops
from bot.ops.gauges import StoreGauges, scrape
from bot.store import AuditRow
from bot.supervisor import SurfaceState, SurfaceStatus
from tests.support.llm import FakeLLM
from tests.support.platform import FakePlatform
from tests.support.stack import Stack, joke_stack

ROOT = Path(__file__).resolve().parents[2]
MOD = Actor("fake", "m1", "@mod", is_moderator=True)
NOBODY = Actor("fake", "u9", "@eve")
OPTIONS = JokeOptions(cooldown_s=0.0, review_timeout_s=3600.0)
JOKES = (
    "Why do cats hate online shopping? They prefer cat-alogues.",
    "",  # screened out (empty): redrafted at once
    "What do you call a pile of kittens? A meowtain.",
    "Why don't cats play poker in the jungle? Too many cheetahs.",
    "What is a cat's favourite colour? Purrple.",
    "How do cats end a fight? They hiss and make up.",
)


def origin(scope: str = "g1") -> Origin:
    return Origin("fake", scope, Actor("fake", "u1", "@ann"), "", "", "general")


async def scripted_run(stack: Stack, platform: FakePlatform) -> None:
    """Requests (accepted, duplicate, refused), an LLM failure, a screen-out, every decision."""
    service, decide = stack.service, stack.service.decide
    await service.save_scope(ScopeConfig("fake", "g1", "mods", "fun"))
    platform.permanent_failure(1, kind="notify")  # one effect fails for good (and alerts)
    for key in ("fake:1", "fake:2", "fake:3"):
        await service.request_joke(JokeRequest(key, origin(), "cats"))
    await service.request_joke(JokeRequest("fake:1", origin(), "cats"))  # redelivered
    await service.request_joke(JokeRequest("fake:4", origin("nowhere"), "cats"))  # not set up
    await stack.drain()
    stack.clock.advance(OPTIONS.retry_s)  # the first completion failed; its run retries
    await stack.drain()
    t1, t2 = platform.latest_token("fake:1"), platform.latest_token("fake:2")
    assert t1 is not None
    assert t2 is not None
    await platform.click(decide, t1, "approve", NOBODY)  # forbidden
    platform.duplicate_delivery(1)
    await platform.click(decide, t1, "reject", MOD, data={"reason": "old"})
    await stack.drain()
    await platform.click(decide, t1, "approve", MOD)  # stale: a newer card replaced it
    newer = platform.latest_token("fake:1")
    assert newer is not None
    stack.clock.advance(42)
    await platform.click(decide, newer, "approve", MOD)
    await platform.click(decide, t2, "edit", MOD, data={"text": "A cat walks into a bar."})
    await decide(DecisionRequest(t2, "approve", MOD, "late"))  # already decided
    await stack.drain()
    stack.clock.advance(OPTIONS.review_timeout_s + 1)  # fake:3 expires
    await stack.drain()


def total(registry: CollectorRegistry, family: str, **match: str) -> float:
    """Sum of ``family``'s main samples whose labels include ``match``."""
    found = 0.0
    for metric in registry.collect():
        for s in metric.samples:
            main = s.name in (family, f"{family}_total", f"{family}_count")
            if main and metric.name == family and match.items() <= s.labels.items():
                found += s.value
    return found


def flow_events(audit: list[AuditRow]) -> Counter[str]:
    return Counter(str(a.data["event"]) for a in audit if a.event == "flow")


async def test_metrics_counters_agree_with_the_audit_log(tmp_path: Path) -> None:
    llm = FakeLLM(*JOKES, fail_times=1)
    async with joke_stack(tmp_path, llm=llm, options=OPTIONS, serve=False) as stack:
        platform = FakePlatform(stack.clock)
        stack.register("fake", platform)
        await scripted_run(stack, platform)
        async with stack.store.read() as tx:
            audit = await tx.audit()
            expired = [a for a in audit if a.event == "wait.expired"]
            kinds = [(await tx.get_wait(a.data["token"])) for a in expired]
        reg = stack.core.telemetry.registry

    events = Counter(a.event for a in audit)
    by_flow = flow_events(audit)
    review_timeouts = sum(1 for w in kinds if w is not None and w.kind == "review")
    assert total(reg, "jokebot_requests", outcome="accepted") == events["run.started"] == 3
    assert total(reg, "jokebot_requests", outcome="duplicate") == 1
    assert total(reg, "jokebot_requests", outcome="refused") == 1
    assert total(reg, "jokebot_decisions", surface="fake", outcome="applied") == sum(
        1 for a in audit if a.event == "wait.decided" and a.actor.startswith("fake:")
    )
    assert total(reg, "jokebot_decisions", surface="system") == review_timeouts == 1
    assert total(reg, "jokebot_decisions", surface="fake") == len(platform.deliveries) + 1
    for outcome in ("forbidden", "duplicate", "stale", "already_decided"):
        assert total(reg, "jokebot_decisions", outcome=outcome) == 1, outcome
    assert total(reg, "jokebot_time_to_decision_seconds") == events["wait.decided"] + 1
    assert total(reg, "jokebot_time_to_decision_seconds", action="approve") == 1
    assert total(reg, "jokebot_drafts") == by_flow["review_requested"] == 4
    assert total(reg, "jokebot_screened_out", reason="empty") == by_flow["screened_out"] == 1
    for event, count in by_flow.items():
        assert total(reg, "jokebot_flow_events", flow="joke", event=event) == count, event
    for status in ("done", "failed", "uncertain"):
        assert total(reg, "jokebot_effects", status=status) == events[f"effect.{status}"], status
    assert total(reg, "jokebot_effects", status="failed", kind="notify") == 1
    assert total(reg, "jokebot_llm_failures", kind="unreachable") == by_flow["llm_error"] == 1
    assert total(reg, "jokebot_llm_request_seconds") == llm.call_count
    assert total(reg, "jokebot_runs_failed") == events["run.failed"] == 0


def documented_names(text: str) -> set[str]:
    names = set(re.findall(r"\bjokebot_[a-z_]+[a-z]", text))
    return {re.sub(r"_(total|bucket|count|sum|created)$", "", n) for n in names}


def dashboard_exprs() -> str:
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text(encoding="utf-8"))
    return "\n".join(t["expr"] for p in dashboard["panels"] for t in p.get("targets", []))


async def test_metrics_every_documented_metric_exists_and_every_metric_is_documented(
    tmp_path: Path,
) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM(*JOKES), options=OPTIONS, serve=False) as stack:
        platform = FakePlatform(stack.clock)
        stack.register("fake", platform)
        await scripted_run(stack, platform)
        reg = stack.core.telemetry.registry
        reg.register(StoreGauges(stack.store, stack.clock, [SurfaceStatus("fake")]))
        families = {m.name for m in reg.collect() if m.name.startswith("jokebot_")}

    in_docs = documented_names((ROOT / "docs" / "operations.md").read_text(encoding="utf-8"))
    in_dashboard = documented_names(dashboard_exprs())
    assert in_docs - families == set(), "documented but missing"
    assert in_dashboard - families == set(), "on the dashboard but missing"
    assert families - in_docs == set(), "not documented in docs/operations.md"


async def test_metrics_gauges_read_the_store_at_scrape_time_with_a_cache(tmp_path: Path) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM(*JOKES), options=OPTIONS, serve=False) as stack:
        await stack.service.save_scope(ScopeConfig("fake", "g1", "mods", "fun"))
        await stack.service.request_joke(JokeRequest("fake:1", origin(), "cats"))
        await stack.drain()  # no sender: the card waits in the outbox
        gauges = StoreGauges(stack.store, stack.clock, [SurfaceStatus("fake")], cache_s=3600)
        reg = CollectorRegistry()
        reg.register(gauges)
        stack.clock.advance(30)
        await gauges.refresh()
        before = (
            reg.get_sample_value("jokebot_outbox_effects", {"status": "pending"}),
            reg.get_sample_value("jokebot_pending_reviews"),
            reg.get_sample_value("jokebot_outbox_oldest_open_seconds"),
            reg.get_sample_value("jokebot_store_up"),
            reg.get_sample_value("jokebot_surface_ready", {"surface": "fake"}),
        )
        stack.register("fake", FakePlatform(stack.clock))
        await stack.drain()
        await gauges.refresh()  # cached: still the first reading
        cached = reg.get_sample_value("jokebot_outbox_effects", {"status": "pending"})
        fresh = StoreGauges(stack.store, stack.clock, cache_s=0)
        await fresh.refresh()
        after = {s.labels.get("status"): s.value for m in fresh.collect() for s in m.samples}

    assert before == (1.0, 1.0, 30.0, 1.0, 0.0)
    assert cached == 1.0
    assert after["pending"] == 0.0


async def test_metrics_endpoint_serves_this_cores_registry_only(tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    async with (
        joke_stack(tmp_path / "a", llm=FakeLLM(*JOKES), options=OPTIONS, serve=False) as a,
        joke_stack(tmp_path / "b", llm=FakeLLM(*JOKES), options=OPTIONS, serve=False) as b,
    ):
        await a.service.request_joke(JokeRequest("fake:1", origin(), "cats"))  # refused
        surface = SurfaceStatus("fake", SurfaceState.RUNNING)
        gauges = StoreGauges(a.store, a.clock, [surface])
        a.core.telemetry.registry.register(gauges)
        checks = Readiness(a.store, [surface], a.core.observed, a.clock)
        app = ops_app(checks, lambda: scrape(a.core.telemetry.registry, gauges))
        async with serving_ops(app, "127.0.0.1", 0) as port, aiohttp.ClientSession() as http:
            reply = await http.get(f"http://127.0.0.1:{port}/metrics")
            text = await reply.text()
        other = total(b.core.telemetry.registry, "jokebot_requests")

    assert reply.status == 200
    assert reply.headers["Content-Type"].startswith("text/plain")
    assert 'jokebot_requests_total{outcome="refused",platform="fake"} 1.0' in text
    assert 'jokebot_surface_ready{surface="fake"} 1.0' in text
    assert other == 0.0
