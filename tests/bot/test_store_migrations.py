"""Schema migrations: ordered, recorded, idempotent, the same steps on both backends; an old
database keeps its waits decidable.
"""

import hashlib
import json

import pytest

from bot.errors import ConfigError
from bot.models import DecideStatus
from bot.store import is_postgres, open_store
from bot.store.migrations import LATEST, MIGRATIONS, Dialect
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SqliteStore
from flows import Suspended, start_checkpoint
from tests.support.db import execute, rows
from tests.support.runtime_flows import Drafter, build_review_flow, initial_state
from tests.support.runtime_harness import ALICE, ORIGIN, Harness
from tests.support.runtime_invariants import check_invariants

OLD_WAIT = "0123456789abcdef0123456789abcdef"
# sha256 of each released step's statements: a released step is never edited (add a new one)
RELEASED = {
    "sqlite": {
        1: "61c14b738dc1c26c822d44374c783e70644f3d628c2669396ceebfef92dbc0fd",
        2: "31fd4d5e142a9d2de0e0488386d1591683b271f44d826687032df9178aa7266b",
        3: "1ee85aa0ef6a25b3a847d4df56844d162cf20e6f360e7a0302f4b2bfd4aaffbf",
        4: "37f0e8bc4e753f2f1ae8ccb8d50de873dd7dfe537dbc7be66bcd38de4e2286e7",
        5: "b621380012fe60ff358b0bdad77a5bd4400942d17db11d76f56c9cf0073ede16",
        6: "596e8ec7cc6ea900733add9234e15cf89e4a538f8bd30efaf4a252334e65085e",
        7: "c3fef5ae729bb274b56d1b130de8c386abef709e05b31b25e18516eae3de63c2",
        8: "d0a7dfbf7a0e1cb6d3101cc3bb6f3657997bb6c6ac2e90d303a3f1b5c2f4bd4a",
        10: "f8dee680fb2efe1c7175af15ef85b1af5b1e8f8d28722f2c33a967d32113a4e0",
    },
    "postgres": {
        1: "b8b727b90157035be3100b23f9371ad4c986e3d39335361ef396baaef75e1127",
        2: "bc65faec7a29f52db379341badbd831412431c7c8c1995252edf1596988bfae0",
        3: "9c61c04255607eeec024fb0b1fb7be5305d8fde9f34096dc1c08a82e7070d1cc",
        4: "97c0b21375f40581b091ee364045da1a27a22f89582520f27c7fc54ccabe1f7b",
        5: "80beafde935136a7d29c9a77f5042fbc3502179250e88f0bbabd5d3ce2a36fd6",
        6: "db82f9c45186edb73083199764388952bf048d544164fe0d7dc9ba895120428d",
        7: "99b2f80e3fd43a102626cd6ba813e70a50e1d6c8fce772efc23e6ae44f235032",
        8: "9f910add5760ab32bf4c00791536440884cb32579cf5baf46970b670da49477d",
        10: "9eeef563e22ff6edd40bbafcad678cc279bf0c10294bbedf5f23c880073d8246",
    },
}


def test_migrations_are_ordered_and_unique() -> None:
    versions = [m.version for m in MIGRATIONS]

    # 9 was never used (work merged separately): increasing is the rule, gaps are allowed
    assert versions == sorted(set(versions))
    assert versions[0] == 1
    assert versions[-1] == LATEST


@pytest.mark.parametrize("dialect", ["sqlite", "postgres"])
def test_released_steps_are_never_edited(dialect: Dialect) -> None:
    digests = {
        m.version: hashlib.sha256("\n;\n".join(m.statements(dialect)).encode()).hexdigest()
        for m in MIGRATIONS
    }

    assert {v: digests[v] for v in RELEASED[dialect]} == RELEASED[dialect]


async def test_reopening_does_not_reapply_migrations(db_url: str) -> None:
    for _ in range(2):
        store = await open_store(db_url)
        await store.close()

    versions = [r["version"] for r in rows(db_url, "SELECT version FROM schema_version")]
    assert sorted(versions) == [m.version for m in MIGRATIONS]


async def test_a_database_newer_than_the_code_is_refused(db_url: str) -> None:
    store = await open_store(db_url)
    await store.close()
    execute(db_url, "INSERT INTO schema_version VALUES (?, 'future', 0)", LATEST + 1)

    with pytest.raises(RuntimeError, match="newer than this code"):
        await open_store(db_url)


async def test_a_step_merged_after_a_later_one_is_still_applied(db_url: str) -> None:
    store = await open_store(db_url)
    await store.close()
    # what a database migrated to v8 before v7 existed looks like
    execute(db_url, "DROP TABLE slack_installations")
    execute(db_url, "DROP TABLE oauth_states")
    execute(db_url, "DELETE FROM schema_version WHERE version = 7")

    store = await open_store(db_url)
    try:
        async with store.transaction() as tx:
            await tx.add_oauth_state("s", expires_at=10.0)
            found = await tx.get_installation("", "T1")
    finally:
        await store.close()

    versions = sorted(r["version"] for r in rows(db_url, "SELECT version FROM schema_version"))
    assert versions == [m.version for m in MIGRATIONS]
    assert found is None


async def test_unsupported_url_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        await open_store("mysql://nope")


async def _v1_database_with_a_pending_wait(url: str) -> None:
    """What jokebot with schema v1 left behind: a run paused on a review, card not yet sent."""
    if is_postgres(url):
        await (await PostgresStore.open(url, target_version=1)).close()
    else:
        await (await SqliteStore.open(url.removeprefix("sqlite:///"), target_version=1)).close()
    flow = build_review_flow(Drafter("An old joke."))
    suspended = await flow.resume_async(start_checkpoint(flow, initial_state(timeout_s=None)))
    assert isinstance(suspended, Suspended)
    cp = suspended.checkpoint
    card = {"token": OLD_WAIT, "card": cp["wait"]["payload"]}
    execute(
        url,
        "INSERT INTO runs (run_id, flow, origin_json, status, cursor, seq, checkpoint_json, "
        "wait_token, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
        "old-run",
        "review",
        json.dumps(ORIGIN.to_json()),
        "waiting",
        f"waiting:{OLD_WAIT}",
        3,
        json.dumps(cp),
        OLD_WAIT,
        1.0,
        1.0,
    )
    execute(
        url,
        "INSERT INTO waits (token, run_id, seq, kind, allowed_json, payload_json, on_timeout, "
        "status, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
        OLD_WAIT,
        "old-run",
        3,
        "review",
        json.dumps(cp["wait"]["allowed"]),
        json.dumps(cp["wait"]["payload"]),
        "timeout",
        "pending",
        1.0,
    )
    execute(
        url,
        "INSERT INTO outbox (effect_id, run_id, seq, n, kind, payload_json, dedupe_key, token, "
        "status, next_attempt_at, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        "old-run:3:0",
        "old-run",
        3,
        0,
        "review.post",
        json.dumps(card),
        "k",
        OLD_WAIT,
        "pending",
        0.0,
        1.0,
        1.0,
    )
    started = {"seq": 0, "status": "running"}
    step = {"seq": 3, "status": "waiting", "wait": OLD_WAIT, "effects": ["old-run:3:0"]}
    for event, data in (("run.started", started), ("step", step)):
        execute(
            url,
            "INSERT INTO audit (run_id, at, actor, event, data_json) VALUES (?,?,?,?,?)",
            "old-run",
            1.0,
            "x",
            event,
            json.dumps(data),
        )


async def test_a_pending_wait_from_schema_v1_is_decidable_after_upgrading(db_url: str) -> None:
    await _v1_database_with_a_pending_wait(db_url)
    h = Harness(db_url)

    await h.boot()  # opens with the latest schema: migrates v1 -> latest
    try:
        await h.drain()
        result = await h.click("old-run", "approve", ALICE)
        await h.drain()
        version = await h.store.schema_version() if h.store else 0
    finally:
        await h.shutdown()

    assert version == LATEST
    assert result is not None
    assert result.status == DecideStatus.APPLIED
    assert [m.payload["text"] for m in h.platform.public_posts("old-run")] == ["An old joke."]
    check_invariants(db_url, h.platform, drained=True)


async def test_a_review_wait_from_before_v3_still_refuses_an_empty_edit(db_url: str) -> None:
    await _v1_database_with_a_pending_wait(db_url)
    h = Harness(db_url)

    await h.boot()  # v3 backfills waits.needs_json for the reviews already pending
    try:
        await h.drain()
        empty = await h.click("old-run", "edit", ALICE, text="   ")
        edited = await h.click("old-run", "edit", ALICE, text="A new joke.")
        await h.drain()
    finally:
        await h.shutdown()

    assert empty is not None
    assert empty.status == DecideStatus.INVALID
    assert "text" in empty.message
    assert edited is not None
    assert edited.status == DecideStatus.APPLIED
    assert [m.payload["text"] for m in h.platform.public_posts("old-run")] == ["A new joke."]


async def test_a_scope_saved_before_schema_v8_has_no_screen_settings_after_it(
    db_url: str,
) -> None:
    if is_postgres(db_url):
        await (await PostgresStore.open(db_url, target_version=5)).close()
    else:
        await (await SqliteStore.open(db_url.removeprefix("sqlite:///"), target_version=5)).close()
    execute(
        db_url,
        "INSERT INTO scopes (platform, scope, mod_channel, public_channel, moderator_role) "
        "VALUES (?,?,?,?,?)",
        "discord",
        "g1",
        "mods",
        "fun",
        "role",
    )

    store = await open_store(db_url)
    try:
        found = await store.get_scope("discord", "g1")
    finally:
        await store.close()

    assert found is not None
    assert (found.moderator_role, found.blocked_words, found.screen_threshold) == ("role", (), None)


async def test_a_step_merged_after_a_higher_one_is_applied_on_the_next_open(db_url: str) -> None:
    # a database migrated by a build with v8 but not yet v6 (work merged out of order)
    await (await open_store(db_url)).close()
    execute(db_url, "DROP TABLE requests")
    execute(db_url, "DELETE FROM schema_version WHERE version = ?", 6)

    store = await open_store(db_url)
    try:
        version = await store.schema_version()
        async with store.read() as tx:
            nobody = await tx.last_request_at("fake:u1")
    finally:
        await store.close()

    versions = [r["version"] for r in rows(db_url, "SELECT version FROM schema_version")]
    assert sorted(versions) == [m.version for m in MIGRATIONS]
    assert version == LATEST
    assert nobody is None  # the requests table is back
