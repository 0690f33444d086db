"""The stats page: the numbers of the last N days, drawn as server-side SVG (``_svg``).

Requests, review results, decision and drafting times, moderators, rejection reasons and
model failures. Every number comes from one ``RunInsights.stats`` read (the store counts);
this module only turns it into figures and charts.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from adapters.console import _svg as svg
from adapters.console._auth import viewer
from adapters.console._identity import Identity
from adapters.console._templates import page, state
from bot.models import RunStatsReport, platform_name
from bot.ports import RunInsights

DAY = 86400.0
SPANS = (7, 14, 30, 90)
RESULTS = ("approved", "edited", "rejected", "expired", "pending", "cancelled")


@dataclass(frozen=True)
class Rates:
    """Shares of the reviews that closed (decided or expired), in percent."""

    closed: int
    approved: float | None
    rejected: float | None
    expired: float | None


def rates(reviews: Mapping[str, int]) -> Rates:
    """Approval (approved or edited), rejection and expiry rates of the closed reviews."""
    approved = reviews.get("approved", 0) + reviews.get("edited", 0)
    rejected, expired = reviews.get("rejected", 0), reviews.get("expired", 0)
    closed = approved + rejected + expired
    if closed == 0:
        return Rates(0, None, None, None)
    return Rates(closed, *(100.0 * n / closed for n in (approved, rejected, expired)))


def span(now: float, days: int) -> tuple[float, float]:
    """``[since, until)``: the last ``days`` UTC days, today included."""
    today = now - now % DAY
    return today - (days - 1) * DAY, today + DAY


def charts(report: RunStatsReport) -> dict[str, str]:
    """Every chart of the page as SVG markup, by name."""
    days = [report.since + i * DAY for i in range(round((report.until - report.since) / DAY))]
    per_platform: dict[str, dict[float, float]] = {}
    for (day, platform), n in sorted(report.requests.items()):
        per_platform.setdefault(platform_name(platform) or "?", {})[day] = float(n)
    reasons = [(reason or "(no reason given)", float(n)) for reason, n in report.reasons]
    failures = {"model failures": {d: float(n) for d, n in report.llm_failures.items()}}
    return {
        "requests": svg.line_chart("Requests per day and platform", days, per_platform, width=1000),
        "results": svg.bar_chart(
            "Review results", [(r, float(report.reviews.get(r, 0))) for r in RESULTS]
        ),
        "moderators": svg.bar_chart(
            "Decisions per moderator", [(m, float(n)) for m, n in report.moderators]
        ),
        "reasons": svg.bar_chart("Top rejection reasons", reasons),
        "drafting": svg.bar_chart(
            "Drafting time (model and screen)", [(b, float(n)) for b, n in report.drafting_buckets]
        ),
        "failures": svg.line_chart("Model failures per day", days, failures, width=1000),
    }


def stats_router(insights: RunInsights) -> APIRouter:
    """``/stats?days=N``."""
    router = APIRouter()

    @router.get("/stats")
    async def stats_page(
        request: Request, who: Annotated[Identity, Depends(viewer)], days: int = 14
    ) -> Response:
        days = days if days in SPANS else 14
        report = await insights.stats(*span(state(request).clock.now(), days))
        failures = sum(report.llm_failures.values())
        return page(
            request,
            "stats.html",
            report=report,
            days=days,
            spans=SPANS,
            rates=rates(report.reviews),
            requests=sum(report.requests.values()),
            failures=failures,
            charts=charts(report),
        )

    return router
