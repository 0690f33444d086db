"""Text from users, moderators and the model, made inert for Discord.

``AllowedMentions.none()`` already stops pings; this also keeps what people typed from
*rendering* as anything but text: Discord markdown is backslash-escaped, mention-like
``<@…>`` / ``<#…>`` / ``@everyone`` get a zero-width space so Discord never parses them, control
characters and direction overrides are dropped (``adapters._text.clean``, shared with Slack),
and every string is clipped to its limit.
"""

import re

from adapters._text import clean

ZWSP = "\u200b"
ELLIPSIS = "…"
_INLINE = re.compile(r"([\\*_~|`\[\]])")  # emphasis, spoilers, code, masked links
# At a line start: headings and subtext (#, -#), quotes (>), bullets (-, +; * is inline).
_LINE_START = re.compile(r"^(\s*)([#>+-])", re.MULTILINE)
_NUMBERED = re.compile(r"^(\s*\d+)\.", re.MULTILINE)  # "1." lists: escape the dot
_MENTIONISH = re.compile(f"<(?=[^\\s{ZWSP}])|@(?=everyone|here)")


def inert(text: str) -> str:
    """Mentions, channel links, emoji and timestamps no longer parse: ``<`` / ``@`` + ZWSP."""
    return _MENTIONISH.sub(lambda m: m.group(0) + ZWSP, text)


def escape(text: str) -> str:
    """Discord markdown shown literally (backslash escapes), then :func:`inert`."""
    text = _INLINE.sub(r"\\\1", text)
    text = _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)
    text = _NUMBERED.sub(lambda m: m.group(1) + "\\.", text)
    return inert(text)


def unescape(text: str) -> str:
    """Undo :func:`escape` (to prefill a form with text read back from a card)."""
    text = re.sub(f"([<@]){ZWSP}", r"\1", text)
    return re.sub(r"\\([^0-9A-Za-z\s])", r"\1", text)  # Discord's own escape rule


def clip(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending in … when cut; never ends inside an escape."""
    if len(text) <= limit:
        return text
    cut = text[: max(0, limit - 1)]
    trailing = len(cut) - len(cut.rstrip("\\"))
    if trailing % 2:
        cut = cut[:-1]  # a lone backslash would escape the ellipsis instead of its own char
    return cut + ELLIPSIS


def md(text: str, limit: int, *, multiline: bool = True) -> str:
    """Untrusted text for a place Discord renders markdown (content, descriptions, fields)."""
    return clip(escape(clean(text, multiline=multiline)), limit)


def plain(text: str, limit: int) -> str:
    """Untrusted text for a one-line place without markdown (footers, author names)."""
    return clip(inert(clean(text, multiline=False)), limit)


def form_value(text: str, limit: int) -> str:
    """Untrusted text prefilled in a text input: shown raw, so only cleaned and clipped."""
    return clean(text)[:limit]
