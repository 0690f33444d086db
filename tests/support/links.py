"""ScriptedLinks: the link-code half of a stub EventSink, recording what the adapter asked."""

from bot.errors import BadRequest
from bot.models import LinkCode, Surface
from bot.queues import normalise

CODE = "ABCD-EFGH"  # the one code a ScriptedLinks sink hands out and accepts


class ScriptedLinks:
    """``link_code`` always gives :data:`CODE`; ``link`` accepts it (in any spelling) only."""

    codes: list[tuple[str, str]]  # link codes asked for: (platform, scope)
    links: list[tuple[str, Surface]]  # codes used: (code, where)

    async def link_code(self, platform: str, scope: str) -> LinkCode:
        self.codes.append((platform, scope))
        return LinkCode(CODE, 600.0)

    async def link(self, code: str, surface: Surface) -> str:
        if normalise(code) != CODE:
            raise BadRequest("That link code is unknown, already used or expired.")
        self.links.append((normalise(code), surface))
        return "Linked: jokes requested elsewhere are now reviewed in this channel too."
