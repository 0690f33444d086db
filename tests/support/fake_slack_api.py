"""FakeSlack's Web API methods, answering as the method pages on docs.slack.dev document.

Every rule carries a comment naming the Slack behaviour it models. Block Kit, view and metadata
validation is in :mod:`tests.support.fake_slack_rules`.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from tests.support.fake_slack_rules import (
    HISTORY_SCOPES,
    INFO_SCOPES,
    METHOD_SCOPES,
    TEXT_MAX,
    check_blocks,
    check_metadata,
    check_view,
)
from tests.support.fake_slack_world import (
    BOT_ID,
    BOT_USER,
    TEAM,
    TRIGGER_TTL_S,
    Channel,
    Ephemeral,
    Message,
    World,
    decode_cursor,
    encode_cursor,
    is_user_id,
    micros,
)

HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX = 100, 999


@dataclass(frozen=True)
class Caller:
    """The workspace, bot and scopes of the token a call is made with (scopes None: the
    legacy bot token's, :attr:`SlackApi.scopes`)."""

    team: str
    bot_user: str
    bot_id: str
    scopes: frozenset[str] | None


def error(name: str, **extra: Any) -> dict[str, Any]:
    """Slack's error envelope: HTTP 200, ``{"ok": false, "error": ...}``."""
    return {"ok": False, "error": name, **extra}


class SlackApi(World):
    """The Web API over a :class:`World`; ``scopes`` are the bot token's granted scopes."""

    def __init__(
        self,
        *args: Any,
        scopes: frozenset[str],
        plan: str = "pro",
        short_pages: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.scopes = set(scopes)
        self.plan = plan
        self.short_pages = short_pages
        self.views: dict[str, dict[str, Any]] = {}
        # who is calling: the legacy bot token's workspace unless a call is made for a grant
        self.caller = Caller(TEAM, BOT_USER, BOT_ID, None)

    @property
    def granted(self) -> set[str]:
        """The scopes of the token making the current call."""
        return set(self.caller.scopes) if self.caller.scopes is not None else self.scopes

    @contextmanager
    def calling_as(self, caller: "Caller") -> Iterator[None]:
        """Answer the calls made inside as ``caller``'s workspace and bot (handlers are sync)."""
        before, self.caller = self.caller, caller
        try:
            yield
        finally:
            self.caller = before

    def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """One authorised Web API call (the token was checked by the server)."""
        needed = METHOD_SCOPES.get(method, ())
        if missing := [s for s in needed if s not in self.granted]:
            # A token without a method's scope: missing_scope, naming what was needed.
            return error(
                "missing_scope", needed=missing[0], provided=",".join(sorted(self.granted))
            )
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return error("unknown_method")
        result: dict[str, Any] = handler(params)
        return result

    # -- conversations -----------------------------------------------------------------

    def _find(self, cid: str, *, read: dict[str, str] | None = None) -> Channel | dict[str, Any]:
        """A conversation the bot can see, or Slack's error for it."""
        channel = self.channels.get(cid)
        # Private channels and DMs the bot is not in do not exist for it: channel_not_found;
        # nor does any channel of another workspace.
        if channel is None or channel.team != self.caller.team:
            return error("channel_not_found")
        if channel.kind != "public" and not channel.is_member:
            return error("channel_not_found")
        if read is not None and (scope := read[channel.kind]) not in self.granted:
            return error("missing_scope", needed=scope, provided=",".join(sorted(self.granted)))
        return channel

    def _target(self, cid: str) -> tuple[str, Channel] | dict[str, Any]:
        """Where chat.postMessage posts: a user id posts in the app's DM with that user."""
        if is_user_id(cid):
            cid = self.dm(cid, self.caller.team)
        found = self._find(cid)
        if isinstance(found, dict):
            return found
        # A public channel the bot is not in: not_in_channel (chat:write.public would allow it).
        if not found.is_member and "chat:write.public" not in self.granted:
            return error("not_in_channel")
        return cid, found

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(params.get("users", "")).split(",") if u]
        if len(users) != 1 or not is_user_id(users[0]):
            return error("user_not_found")
        if users[0] == self.caller.bot_user:
            return error("cannot_dm_bot")  # an app cannot open a DM with itself
        return {"ok": True, "channel": {"id": self.dm(users[0], self.caller.team)}}

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = str(params.get("channel", ""))
        channel = self._find(cid, read=INFO_SCOPES)
        if isinstance(channel, dict):
            return channel
        about = {"id": cid, "name": channel.name, "is_member": channel.is_member}
        return {
            "ok": True,
            "channel": {**about, "is_private": channel.is_private, "is_im": channel.is_im},
        }

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._find(str(params.get("channel", "")), read=HISTORY_SCOPES)
        if isinstance(channel, dict):
            return channel
        if not channel.is_member:
            return error("not_in_channel")  # reading a public channel needs membership
        try:
            window = _window(params)
        except ValueError as exc:
            return error(str(exc))
        limit = min(int(params.get("limit") or HISTORY_LIMIT_DEFAULT), HISTORY_LIMIT_MAX)
        newest_first = [m for m in reversed(channel.messages) if window(micros(m.ts))]
        # "Fewer than the requested number of items may be returned, even if the end of the
        # conversation history hasn't been reached": a seeded random page length.
        size = self.rng.randint(1, limit) if self.short_pages else limit
        page, more = newest_first[:size], len(newest_first) > size
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        return {
            "ok": True,
            "messages": [shown(m, with_metadata) for m in page],
            "has_more": more,
            "pin_count": 0,
            "response_metadata": {
                "next_cursor": encode_cursor(micros(page[-1].ts)) if more else ""
            },
        }

    # -- chat --------------------------------------------------------------------------

    def _content(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """What Slack checks in a message body before storing it."""
        text, blocks = params.get("text"), params.get("blocks")
        if not text and not blocks:
            return error("no_text")
        if isinstance(text, str) and len(text) > TEXT_MAX:
            return error("msg_too_long")  # text beyond 40,000 characters
        if blocks is not None and (messages := check_blocks(blocks)):
            return error("invalid_blocks", response_metadata={"messages": messages})
        if (problem := check_metadata(params.get("metadata"))) is not None:
            return error(problem)
        return None

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        target = self._target(str(params.get("channel", "")))
        if isinstance(target, dict):
            return target
        if (refused := self._content(params)) is not None:
            return refused
        cid, _ = target
        text, blocks = str(params.get("text") or ""), list(params.get("blocks") or [])
        message = self.add(cid, text, blocks, params.get("metadata"))
        # The answer names the conversation it landed in: a D… id for a post to a user id.
        return {"ok": True, "channel": cid, "ts": message.ts, "message": shown(message, True)}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = str(params.get("channel", ""))
        found = self._find(cid)
        if isinstance(found, dict):
            return found
        message = next((m for m in found.messages if m.ts == params.get("ts")), None)
        if message is None:
            return error("message_not_found")  # ephemerals are never stored: not found either
        if not message.by_bot:
            return error("cant_update_message")  # only the app's own messages can be edited
        if (refused := self._content({**params, "metadata": None})) is not None:
            return refused
        message.text = str(params.get("text") or message.text)
        if "blocks" in params:
            message.blocks = list(params.get("blocks") or [])
        return {"ok": True, "channel": cid, "ts": message.ts, "text": message.text}

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        cid, user = str(params.get("channel", "")), str(params.get("user", ""))
        found = self._find(cid)
        if isinstance(found, dict):
            return found
        if not found.is_member:
            return error("not_in_channel")
        # Only a member of the conversation can be shown an ephemeral message.
        if not found.has(user):
            return error("user_not_in_channel")
        if (refused := self._content(params)) is not None:
            return refused
        ts = self.new_ts()
        blocks = list(params.get("blocks") or [])
        self.ephemerals.append(Ephemeral(cid, user, str(params.get("text") or ""), blocks, ts))
        return {"ok": True, "message_ts": ts}

    # -- views -------------------------------------------------------------------------

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger = self.triggers.get(str(params.get("trigger_id", "")))
        if trigger is None:
            return error("invalid_trigger_id")
        # A trigger_id opens one view, within 3 seconds of the interaction.
        if trigger.used:
            return error("exchanged_trigger_id")
        if self.clock.now() - trigger.issued_at > TRIGGER_TTL_S:
            return error("expired_trigger_id")
        view = params.get("view")
        if messages := check_view(view):
            return error("invalid_arguments", response_metadata={"messages": messages})
        trigger.used = True
        opened = {**dict(view or {}), "id": f"V{len(self.views) + 1:08d}", "hash": "h1"}
        self.views[opened["id"]] = opened
        return {"ok": True, "view": opened}

    # -- the rest ----------------------------------------------------------------------

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": "Fake",
            "user": "jokebot",
            "team_id": self.caller.team,
            "user_id": self.caller.bot_user,
            "bot_id": self.caller.bot_id,
        }

    def _usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.plan == "free":
            return error("plan_upgrade_required")  # user groups need a paid plan
        group = self.usergroups.get(str(params.get("usergroup", "")))
        return {"ok": True, "users": group} if group is not None else error("no_such_subteam")


def _window(params: dict[str, Any]) -> Callable[[int], bool]:
    """The ts range a history call asks for: ``oldest``/``latest`` exclusive unless ``inclusive``,
    continued below a ``cursor``; ValueError carries Slack's error name."""
    inclusive = str(params.get("inclusive", "")).lower() in ("1", "true")
    try:
        oldest = micros(str(params.get("oldest") or "0"))
    except ValueError:
        raise ValueError("invalid_ts_oldest") from None
    try:
        # "now" by default; the fake's ts may run ahead of a frozen test clock, so: no bound
        latest = micros(str(params["latest"])) if params.get("latest") else 1 << 62
    except ValueError:
        raise ValueError("invalid_ts_latest") from None
    if params.get("cursor"):
        try:
            below = decode_cursor(str(params["cursor"]))
        except ValueError:
            raise ValueError("invalid_cursor") from None
        latest, inclusive_latest = min(latest, below), False
    else:
        inclusive_latest = inclusive

    def inside(us: int) -> bool:
        above = us >= oldest if inclusive else us > oldest
        below_ = us <= latest if inclusive_latest else us < latest
        return above and below_

    return inside


def shown(message: Message, with_metadata: bool) -> dict[str, Any]:
    """A message as history and chat.postMessage return it (metadata only when asked for)."""
    out: dict[str, Any] = {
        "type": "message",
        "user": message.user,
        "ts": message.ts,
        "text": message.text,
        "blocks": message.blocks,
    }
    if message.by_bot:
        out["bot_id"] = BOT_ID
    if with_metadata and message.metadata:
        out["metadata"] = message.metadata
    return out
