"""Text from users, moderators and the model, made inert for Discord.

``AllowedMentions.none()`` already stops pings; this also keeps what people typed from
*rendering* as anything but text: Discord markdown is backslash-escaped, mention-like
``<@…>`` / ``<#…>`` / ``@everyone`` get a zero-width space so Discord never parses them, control
characters and direction overrides are dropped, and every string is clipped to its limit.
(Private to the Discord adapter for now; a neutral helper may later be shared with Slack.)
"""

import re
import unicodedata

ZWSP = "\u200b"
ELLIPSIS = "…"
# Direction overrides, embeddings, isolates and marks: they can reorder what a reader sees.
_BIDI = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_INLINE = re.compile(r"([\\*_~|`\[\]])")  # emphasis, spoilers, code, masked links
# At a line start: headings and subtext (#, -#), quotes (>), bullets (-, +; * is inline).
_LINE_START = re.compile(r"^(\s*)([#>+-])", re.MULTILINE)
_NUMBERED = re.compile(r"^(\s*\d+)\.", re.MULTILINE)  # "1." lists: escape the dot
_MENTIONISH = re.compile(f"<(?=[^\\s{ZWSP}])|@(?=everyone|here)")


def clean(text: str, *, multiline: bool = True) -> str:
    """Drop control characters and direction overrides; newlines stay only if ``multiline``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out = []
    for ch in text:
        if ch in "\n\u2028\u2029":
            out.append("\n" if multiline else " ")
        elif ch == "\t":
            out.append(" ")
        elif ch not in _BIDI and unicodedata.category(ch) != "Cc":
            out.append(ch)
    return "".join(out)


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
    return clip(escape(clean(text, multiline=multiline).strip()), limit)


def plain(text: str, limit: int) -> str:
    """Untrusted text for a one-line place without markdown (footers, author names)."""
    return clip(inert(clean(text, multiline=False).strip()), limit)


def form_value(text: str, limit: int) -> str:
    """Untrusted text prefilled in a text input: shown raw, so only cleaned and clipped."""
    return clean(text)[:limit]
