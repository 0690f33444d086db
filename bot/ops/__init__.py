"""Operations: readiness checks, the health (and metrics) HTTP server, and its client.

``health`` decides whether this process is ready, ``server`` serves ``/health/live``,
``/health/ready`` and ``/metrics``, ``client`` is what ``jokebot health`` calls.
"""

from bot.ops.client import EXIT_NOT_READY, EXIT_READY, EXIT_UNREACHABLE, probe, ready_url
from bot.ops.health import Check, ModelHealth, Readiness, Report, surface_check
from bot.ops.server import Scrape, ops_app, serving_ops

__all__ = [
    "EXIT_NOT_READY",
    "EXIT_READY",
    "EXIT_UNREACHABLE",
    "Check",
    "ModelHealth",
    "Readiness",
    "Report",
    "Scrape",
    "ops_app",
    "probe",
    "ready_url",
    "serving_ops",
    "surface_check",
]
