"""Who is signed in to the console: the platform account, where it belongs, and its role."""

from dataclasses import dataclass, replace
from enum import IntEnum

from bot.models import Actor


class Role(IntEnum):
    """What a signed-in person may do; a higher role may do everything a lower one may."""

    VIEWER = 1  # read the queue, runs, history and stats
    MODERATOR = 2  # and decide reviews
    ADMIN = 3  # and change settings, export history

    @property
    def label(self) -> str:
        """``viewer``, ``moderator`` or ``admin``: the name shown and stored in the session."""
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> "Role":
        """The role named ``label``; ValueError for any other text (a tampered session)."""
        try:
            return cls[label.upper()]
        except KeyError:
            raise ValueError(f"unknown role {label!r}") from None


@dataclass(frozen=True)
class Identity:
    """A person signed in with Discord or Slack.

    Attributes:
        platform: ``discord`` or ``slack``.
        user_id: the platform's user id (a Discord snowflake, a Slack ``U…``).
        display: the name to show (Discord: server nickname, global name or username).
        scope: the guild (Discord) or workspace (Slack ``T…``) the person signed in from.
        role: the role at sign-in; decisions re-check it (:class:`adapters.console._rights`).
    """

    platform: str
    user_id: str
    display: str
    scope: str
    role: Role = Role.VIEWER

    def with_role(self, role: Role) -> "Identity":
        """The same person with another role (after a re-check)."""
        return replace(self, role=role)

    def actor(self) -> Actor:
        """The neutral Actor a decision from the console carries."""
        return Actor(
            self.platform, self.user_id, self.display, is_moderator=self.role >= Role.MODERATOR
        )
