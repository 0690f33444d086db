"""The bot process killed by tests/e2e/test_slack_kill.py: the runtime with the real Slack
sender (``build_slack``), posting to a FakeSlack that the test process keeps running.

Usage: ``python -m tests.support.slack_crash_child DB API_BASE TAG``. Writes ``ready`` once
the database is open, then recovers and works flat out until SIGKILL: every round starts a run,
drains it to its card, approves (mostly; some rejects) and drains again.
"""

import asyncio
import random
import sys
from pathlib import Path

from adapters.slack_adapter import SlackConfig, SlackSender, build_slack
from bot.clock import SystemClock
from bot.models import Actor, DecisionRequest, Origin
from bot.ports import Clock
from bot.runtime import Runtime
from bot.store import Store, open_store
from tests.support.fake_slack import BOT_TOKEN, TEAM
from tests.support.runtime_flows import Drafter, build_review_flow, initial_state
from tests.support.slack_harness import StubSink

RUNNER_ID = "slack-bot-1"  # the same id across restarts: a rebooted bot takes its leases back
ORIGIN = Origin("slack", TEAM, Actor("slack", "UREQ", "<@UREQ>"), "CMOD", "CPUB", "CGEN")
MODERATOR = Actor("slack", "UMOD", "<@UMOD>", is_moderator=True)


def sender(api_base: str) -> SlackSender:
    """The production sender, as ``build_slack`` makes it, pointed at the fake.

    The bot and the fake share one machine's clock, so the reconcile needs no skew margin
    beyond a second; page size and budget are the production defaults.
    """
    config = SlackConfig(BOT_TOKEN, "CMOD", "CPUB", api_base=api_base, clock_skew_s=1.0)
    return build_slack(config, StubSink())[1]


def runtime(store: Store, api_base: str, clock: Clock) -> Runtime:
    """A runtime over ``store`` whose only platform is the fake Slack."""
    flows = {"review": build_review_flow(Drafter())}
    return Runtime(store, flows, {"slack": sender(api_base)}, clock, runner_id=RUNNER_ID)


async def decide_pending(rt: Runtime, store: Store, tag: str, rng: random.Random) -> None:
    """Decide every pending review: approve, or now and then reject."""
    async with store.read() as tx:
        waits = await tx.pending_waits("slack", TEAM)
    for i, wait in enumerate(waits):
        action = "reject" if rng.random() < 0.2 else "approve"
        await rt.decide(DecisionRequest(wait.token, action, MODERATOR, f"{tag}-{i}"))


async def work(db: Path, api_base: str, tag: str) -> None:
    store = await open_store(f"sqlite:///{db}")
    rt = runtime(store, api_base, SystemClock())
    sys.stdout.write("ready\n")  # before recovery, so some kills land in the middle of it
    sys.stdout.flush()
    await rt.recover()
    rng = random.Random(tag)
    for n in range(1_000_000):
        await rt.start_run("review", f"{tag}-{n}", ORIGIN, initial_state(timeout_s=None))
        await rt.drain()
        await decide_pending(rt, store, f"{tag}-{n}", rng)
        await rt.drain()


if __name__ == "__main__":
    asyncio.run(work(Path(sys.argv[1]), sys.argv[2], sys.argv[3]))
