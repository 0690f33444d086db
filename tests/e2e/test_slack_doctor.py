"""``jokebot doctor``'s Slack check against the fake, with the faults seeded."""

from adapters.slack_adapter import NEEDED, SlackCheck
from bot.models import Level
from tests.support.fake_slack import FakeSlack
from tests.support.fake_slack_rules import manifest_scopes
from tests.support.slack_harness import slack_config


def test_slack_doctor_needs_exactly_the_manifest_scopes() -> None:
    assert set(NEEDED) == manifest_scopes()


async def test_slack_doctor_all_good() -> None:
    async with FakeSlack() as fake:
        found = await SlackCheck(slack_config(fake)).check()

    assert [f.level for f in found] == [Level.OK] * 4, found
    assert "scopes ok (7 needed" in found[1].message  # usergroups:read only with a group


async def test_slack_doctor_reads_the_granted_scopes_from_slack_and_names_the_fix() -> None:
    async with FakeSlack(scopes=manifest_scopes() - {"im:write"}) as fake:
        found = await SlackCheck(slack_config(fake)).check()
        auth_calls = [c for c in fake.calls if c.method == "auth.test"]

    errors = [f for f in found if f.level is Level.ERROR]
    assert len(errors) == 1
    assert "lacks im:write (conversations.open" in errors[0].message
    assert "add `- im:write` under oauth_config.scopes.bot in manifest.yml" in errors[0].fix
    assert "reinstall" in errors[0].fix
    assert len(auth_calls) == 2  # doctor's own auth.test, then the preflight's


async def test_slack_doctor_moderator_group_needs_usergroups_read() -> None:
    scopes = manifest_scopes() - {"usergroups:read"}
    async with FakeSlack(scopes=scopes, usergroups={"SMODS": ["UMOD"]}) as fake:
        found = await SlackCheck(slack_config(fake, moderator_group="SMODS")).check()

    errors = [f.message for f in found if f.level is Level.ERROR]
    assert errors[0].startswith("the token lacks usergroups:read")
    assert any("SLACK_MODERATOR_GROUP=SMODS: missing_scope" in e for e in errors)


async def test_slack_doctor_refused_tokens_and_a_missing_channel() -> None:
    async with FakeSlack(channels={"CPUB": "jokes"}) as fake:
        bad = await SlackCheck(slack_config(fake, bot_token="xoxb-wrong")).check()  # noqa: S106
        app = await SlackCheck(slack_config(fake, app_token="xapp-wrong")).check()  # noqa: S106

    assert [(f.level, f.message) for f in bad] == [
        (Level.ERROR, "SLACK_BOT_TOKEN was refused (invalid_auth)")
    ]
    assert "OAuth & Permissions" in bad[0].fix
    levels = {f.message.split(" (")[0]: f.level for f in app}
    assert levels["SLACK_APP_TOKEN was refused"] is Level.ERROR
    assert any("SLACK_MOD_CHANNEL=CMOD: channel not found" in f.message for f in app)
