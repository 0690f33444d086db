"""The durability invariants I1-I8 (docs/durability.md), checked against the database and the
platform after every scenario. ``check_invariants`` raises one AssertionError listing all
violations. The database is a SQLite file or a database URL (SQLite or PostgreSQL).
"""

import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from bot.models import DecideStatus
from tests.support import FakePlatform
from tests.support.db import Target, snapshot
from tests.support.runtime_flows import normalise

APPROVING = ("approve", "edit")
OPEN = ("pending", "in_flight")
TERMINAL_EFFECT = ("done", "failed", "uncertain")
RUN_EVENTS = ("run.started", "step", "wait.decided", "wait.expired", "run.failed")


@dataclass
class Snapshot:
    """Every table as lists of dicts."""

    runs: dict[str, dict[str, Any]]
    waits: list[dict[str, Any]]
    inbox: list[dict[str, Any]]
    outbox: list[dict[str, Any]]
    audit: list[dict[str, Any]]
    requests: list[dict[str, Any]]

    @classmethod
    def load(cls, target: Target) -> "Snapshot":
        runs, waits, inbox, outbox, audit, requests = snapshot(
            target,
            [
                ("SELECT * FROM runs", ()),
                ("SELECT * FROM waits ORDER BY run_id, seq", ()),
                ("SELECT * FROM inbox", ()),
                ("SELECT * FROM outbox ORDER BY run_id, seq, n", ()),
                ("SELECT * FROM audit ORDER BY id", ()),
                ("SELECT * FROM requests ORDER BY id", ()),
            ],
        )
        return cls({r["run_id"]: r for r in runs}, waits, inbox, outbox, audit, requests)

    def action(self, wait: dict[str, Any]) -> str | None:
        """The decided action of a wait."""
        return (
            None
            if wait["decision_json"] is None
            else str(json.loads(wait["decision_json"])["action"])
        )

    def effects(self, run_id: str, kind: str) -> list[dict[str, Any]]:
        """Outbox rows of one kind of one run."""
        return [e for e in self.outbox if e["run_id"] == run_id and e["kind"] == kind]


def check_invariants(
    path: Target, platform: FakePlatform, *, drained: bool, skip: tuple[str, ...] = ()
) -> None:
    """Assert I1-I9; ``drained``: the outbox and runs were just drained (liveness checks too).

    ``skip`` names checks to leave out, e.g. ``("I8",)`` when the clicks came from elsewhere.
    """
    s = Snapshot.load(path)
    checks = {"I1": _i1, "I3": _i3, "I4": _i4, "I5": _i5, "I6": _i6, "I8": _i8, "I9": _i9}
    if drained:
        checks.update(I2=_i2, I7=_i7, I9_drained=_i9_drained, cards=_cards_show_outcome)
    problems: list[str] = []
    for name, check in checks.items():
        if name not in skip:
            problems += check(s, platform)
    assert not problems, "invariants violated:\n" + "\n".join(problems)


def _i1(s: Snapshot, p: FakePlatform) -> list[str]:
    by_run: dict[str, int] = defaultdict(int)
    for message in p.public_posts():
        by_run[message.run_id] += 1
    return [f"I1 run {r}: {n} public posts" for r, n in by_run.items() if n > 1]


def _approved(s: Snapshot, run_id: str) -> bool:
    return any(w["run_id"] == run_id and s.action(w) in APPROVING for w in s.waits)


def _i2(s: Snapshot, p: FakePlatform) -> list[str]:
    problems = []
    for run_id, run in s.runs.items():
        if run["status"] != "finished" or not _approved(s, run_id):
            continue
        posts = len(p.public_posts(run_id))
        publish = s.effects(run_id, "publish")
        if len(publish) != 1:
            problems.append(f"I2 run {run_id}: approved but {len(publish)} publish effects")
        elif publish[0]["status"] == "done" and posts != 1:
            problems.append(f"I2 run {run_id}: publish done but {posts} public posts")
        elif publish[0]["status"] in ("failed", "uncertain") and not _alerted(s, publish[0]):
            problems.append(f"I2 run {run_id}: publish {publish[0]['status']} without an alert")
        elif publish[0]["status"] in OPEN:
            problems.append(f"I2 run {run_id}: publish still {publish[0]['status']} after drain")
    return problems


def _alerted(s: Snapshot, effect: dict[str, Any]) -> bool:
    return any(e["effect_id"] == f"{effect['effect_id']}:alert" for e in s.outbox)


def _i3(s: Snapshot, p: FakePlatform) -> list[str]:
    problems = []
    applied: dict[str, int] = defaultdict(int)
    for row in s.inbox:
        if row["result"] == "applied":
            applied[row["token"]] += 1
    for w in s.waits:
        closed = w["status"] in ("decided", "expired")
        if closed != (w["decision_json"] is not None) or closed != (w["decided_at"] is not None):
            problems.append(
                f"I3 wait {w['token']}: status {w['status']} vs decision {w['decision_json']}"
            )
        expected = 1 if closed else 0
        if applied[w["token"]] != expected:
            problems.append(
                f"I3 wait {w['token']} ({w['status']}): {applied[w['token']]} applied inbox rows"
            )
    return problems


def _i4(s: Snapshot, p: FakePlatform) -> list[str]:
    problems = []
    for w in s.waits:
        if w["status"] == "expired" and (
            s.action(w) != w["on_timeout"] or w["actor"] != "system:timeout"
        ):
            problems.append(
                f"I4 wait {w['token']}: expired but decided {s.action(w)} by {w['actor']}"
            )
    for run_id in s.runs:
        approvals = sum(1 for w in s.waits if w["run_id"] == run_id and s.action(w) in APPROVING)
        publish = s.effects(run_id, "publish")
        if len(publish) > approvals or (approvals == 0 and p.public_posts(run_id)):
            problems.append(f"I4 run {run_id}: published without an approval")
    return problems


def _i5(s: Snapshot, p: FakePlatform) -> list[str]:
    """Replaying the audit log yields runs' status/seq, waits' status and outbox ids/outcomes."""
    runs: dict[str, tuple[str, int]] = {}
    waits: dict[str, str] = {}
    effects: dict[str, str] = {}
    for row in s.audit:
        data = json.loads(row["data_json"])
        if row["event"] in RUN_EVENTS:
            runs[row["run_id"]] = (data["status"], data["seq"])
        if row["event"] == "step" and data.get("wait"):
            waits[data["wait"]] = "pending"
        if row["event"] in ("wait.decided", "wait.expired"):
            waits[data["token"]] = row["event"].removeprefix("wait.")
        for effect_id in data.get("effects", []):
            effects.setdefault(effect_id, "open")
        if row["event"].startswith("effect."):
            effects[data["effect_id"]] = data["status"]
    problems = []
    for run_id, run in s.runs.items():
        if runs.get(run_id) != (run["status"], run["seq"]):
            problems.append(
                f"I5 run {run_id}: audit says {runs.get(run_id)}, db {run['status']}/{run['seq']}"
            )
    db_waits = {w["token"]: w["status"] for w in s.waits}
    if waits != db_waits:
        problems.append(f"I5 waits differ: audit {waits} db {db_waits}")
    db_effects = {
        e["effect_id"]: e["status"] if e["status"] in TERMINAL_EFFECT else "open" for e in s.outbox
    }
    if effects != db_effects:
        problems.append(f"I5 outbox differs: audit {effects} db {db_effects}")
    return problems


def _i6(s: Snapshot, p: FakePlatform) -> list[str]:
    problems = []
    rejected: dict[str, set[str]] = defaultdict(set)
    for w in s.waits:  # ordered by run, seq
        draft = normalise(str(json.loads(w["payload_json"]).get("draft", "")))
        if draft in rejected[w["run_id"]]:
            problems.append(f"I6 run {w['run_id']}: rejected draft {draft!r} proposed again")
        if s.action(w) == "reject":
            rejected[w["run_id"]].add(draft)
    return problems


def _i7(s: Snapshot, p: FakePlatform) -> list[str]:
    problems = []
    open_effects = {e["run_id"] for e in s.outbox if e["status"] in OPEN}
    waits = {w["token"]: w for w in s.waits}
    for run_id, run in s.runs.items():
        status = run["status"]
        if status in ("finished", "failed"):
            continue
        if status in ("running", "resuming"):
            problems.append(f"I7 run {run_id}: still {status} after drain")
            continue
        wait = waits.get(run["wait_token"])
        if wait is None or wait["status"] != "pending":
            problems.append(f"I7 run {run_id}: waiting on {run['wait_token']} which is not pending")
            continue
        if wait["kind"] != "review" or run_id in open_effects:
            continue
        posts = [e for e in s.outbox if e["token"] == wait["token"] and e["kind"] == "review.post"]
        replaced = {json.loads(e["payload_json"]).get("replaces") for e in posts}
        posts = [e for e in posts if e["effect_id"] not in replaced] or posts
        card = posts[-1] if posts else None  # the newest copy (a re-post replaces a deleted one)
        refs = {m.ref for m in p.cards(run_id)}
        live = any(e["status"] == "done" and e["platform_ref"] in refs for e in posts)
        if not live and not (card is not None and _alerted(s, card)):
            problems.append(
                f"I7 run {run_id}: waiting without a live card ({card and card['status']})"
            )
    return problems


def _i8(s: Snapshot, p: FakePlatform) -> list[str]:
    problems = []
    inbox = {(r["platform"], r["interaction_id"]): r for r in s.inbox if r["platform"] != "system"}
    clicks = {a.interaction_id: a for a in p.answers.values()}
    for iid, answer in clicks.items():
        row = inbox.get((answer.actor.split(":")[0], iid))
        if answer.result is None:
            continue  # the bot died before answering: the platform showed "interaction failed"
        if row is None or row["result"] != str(answer.result.status):
            problems.append(
                f"I8 click {iid}: shown {answer.result.status}, inbox {row and row['result']}"
            )
    for iid, result in p.deliveries:
        first = clicks[iid].result
        if result is not first and result.status != DecideStatus.DUPLICATE:
            problems.append(f"I8 click {iid}: redelivery answered {result.status}, not duplicate")
    for platform, iid in inbox:
        if iid not in clicks:
            problems.append(f"I8 inbox row {platform}/{iid} without a click")
    return problems


def _i9(s: Snapshot, p: FakePlatform) -> list[str]:
    """The door: a queued request has no run, an admitted one exactly one start, and no scope
    holds more live runs than its limit.
    """
    problems = []
    starts = Counter(a["run_id"] for a in s.audit if a["event"] == "run.started")
    for q in s.requests:
        started = q["run_id"] in s.runs
        if (q["state"] == "queued") == started:
            problems.append(f"I9 request {q['run_id']}: {q['state']} but run exists={started}")
        if started and starts[q["run_id"]] != 1:
            problems.append(f"I9 request {q['run_id']}: started {starts[q['run_id']]} times")
    for scope, (live, limit, _) in _scope_slots(s).items():
        if live > limit:
            problems.append(f"I9 scope {scope}: {live} live runs, limit {limit}")
    return problems


def _i9_drained(s: Snapshot, p: FakePlatform) -> list[str]:
    """Once drained, no request waits in line while its scope has a free slot."""
    return [
        f"I9 scope {scope}: a request waits beside a free slot ({live} of {limit} in use)"
        for scope, (live, limit, waiting) in _scope_slots(s).items()
        if waiting and live < limit
    ]


def _scope_slots(s: Snapshot) -> dict[tuple[str, str], tuple[int, int, bool]]:
    """Per scope with one limit: (live runs of its requests, the limit, whether any waits)."""
    scopes: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for q in s.requests:
        scopes[(q["platform"], q["scope"])].append(q)
    slots = {}
    for scope, rows in scopes.items():
        limits = {int(q["max_active"]) for q in rows}
        if len(limits) != 1 or 0 in limits:
            continue  # mixed limits, or none: nothing to hold the count against
        live = sum(
            s.runs[q["run_id"]]["status"] not in ("finished", "failed")
            for q in rows
            if q["run_id"] in s.runs
        )
        slots[scope] = (live, limits.pop(), any(q["state"] == "queued" for q in rows))
    return slots


def _cards_show_outcome(s: Snapshot, p: FakePlatform) -> list[str]:
    """Once drained, every decided card shows its outcome (edited exactly once)."""
    problems = []
    for w in s.waits:
        updates = [e for e in s.effects(w["run_id"], "review.update") if e["token"] == w["token"]]
        if any(e["status"] in ("failed", "uncertain") and _alerted(s, e) for e in updates):
            continue  # the moderators were told a card could not be updated
        expected = [] if w["status"] == "pending" else [s.action(w)]
        for card in p.cards(w["run_id"]):  # every copy on show, duplicates and re-posts too
            if card.payload.get("token") != w["token"]:
                continue
            outcomes = [e["outcome"] for e in card.edits]
            if outcomes != expected:
                problems.append(
                    f"card {w['token']} {card.ref}: shows {outcomes}, expected {expected}"
                )
    return problems
