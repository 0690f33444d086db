"""Fake OAuth2 / OpenID Connect providers (Discord, Slack) for console sign-in tests."""

from tests.support.fake_oauth._discord import DiscordAccount, FakeDiscordOAuth
from tests.support.fake_oauth._slack import FakeSlackOIDC, SlackAccount
from tests.support.fake_oauth._web import serving

__all__ = ["DiscordAccount", "FakeDiscordOAuth", "FakeSlackOIDC", "SlackAccount", "serving"]
