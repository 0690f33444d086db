"""Channel permissions computed the way Discord documents it (developers/topics/permissions).

Base permissions are @everyone's plus the member's roles (the owner and Administrator get
everything); then the channel's overwrites apply in Discord's order: @everyone, the member's
roles together, the member. Threads use their parent channel's overwrites.
"""

from dataclasses import dataclass, field
from typing import Any

# Permission bits (developers/topics/permissions#permissions-bitwise-permission-flags).
ADMINISTRATOR, MANAGE_GUILD = 1 << 3, 1 << 5
VIEW, SEND, MANAGE_MESSAGES, EMBED, READ_HISTORY = 1 << 10, 1 << 11, 1 << 13, 1 << 14, 1 << 16
USE_COMMANDS, SEND_IN_THREADS = 1 << 31, 1 << 38
ALL = (1 << 51) - 1
ROLE, MEMBER = 0, 1  # overwrite types


@dataclass(frozen=True)
class Overwrite:
    """One permission overwrite on a channel, for a role or a member."""

    id: int
    type: int
    allow: int = 0
    deny: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "type": self.type,
            "allow": str(self.allow),
            "deny": str(self.deny),
        }


@dataclass
class GuildPermissions:
    """Roles, who holds them, channel overwrites and thread parents of the fake guild."""

    guild_id: int
    owner_id: int
    roles: dict[int, int]  # role id -> permissions (the @everyone role's id is the guild's)
    member_roles: dict[int, list[int]]
    overwrites: dict[int, list[Overwrite]] = field(default_factory=dict)
    parents: dict[int, int] = field(default_factory=dict)  # thread id -> parent channel id

    def base(self, user_id: int) -> int:
        """Guild-level permissions of a member."""
        if user_id == self.owner_id:
            return ALL
        perms = self.roles.get(self.guild_id, 0)
        for role in self.member_roles.get(user_id, []):
            perms |= self.roles.get(role, 0)
        return ALL if perms & ADMINISTRATOR else perms

    def in_channel(self, user_id: int, channel_id: int) -> int:
        """A member's permissions in a channel (or thread), overwrites applied."""
        perms = self.base(user_id)
        if perms & ADMINISTRATOR or user_id == self.owner_id:
            return ALL
        by_id = {o.id: o for o in self.overwrites.get(self.parents.get(channel_id, channel_id), [])}
        if (everyone := by_id.get(self.guild_id)) is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for role in self.member_roles.get(user_id, []):
            if (o := by_id.get(role)) is not None:
                allow, deny = allow | o.allow, deny | o.deny
        perms = (perms & ~deny) | allow
        if (own := by_id.get(user_id)) is not None:
            perms = (perms & ~own.deny) | own.allow
        return perms

    def set_overwrite(self, channel_id: int, overwrite: Overwrite) -> None:
        """Replace the overwrite for ``overwrite.id`` on a channel."""
        kept = [o for o in self.overwrites.get(channel_id, []) if o.id != overwrite.id]
        self.overwrites[channel_id] = [*kept, overwrite]

    def overwrites_json(self, channel_id: int) -> list[dict[str, Any]]:
        """A channel's ``permission_overwrites`` as Discord sends them."""
        return [o.to_json() for o in self.overwrites.get(channel_id, [])]
