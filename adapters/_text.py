r"""Text hygiene every platform's renderers share: no invisible tricks, bounded lengths.

A user- or moderator-supplied string (a topic, a draft, a reason, a display name) goes through
:func:`clean` before any renderer puts it into platform markup, then through :func:`clip` to fit
the field. Escaping the platform's own markup (Slack's ``& < >``, Discord's markdown) is each
renderer's job; this module knows no platform.

What :func:`clean` removes, and why:

- C0/C1 control characters (``\x00``, ``\x1b[31m``, ``\x07``): terminal escapes and bells;
  ``\r\n`` and ``\r`` become ``\n``, tabs become spaces.
- Unicode format characters (category Cf): bidirectional embeddings, overrides and isolates
  (U+202A-U+202E, U+2066-U+2069) and marks (U+200E, U+200F, U+061C), which make text read in an
  order other than the one it is stored in; zero-width spaces that hide a mention
  (``@\u200beveryone``), word joiners and BOMs; tag characters (U+E0000 block) that smuggle
  invisible text. The zero-width *joiner* U+200D stays: emoji sequences need it.
- Surrogates and private-use characters (Cs, Co): never meaningful in chat text.
"""

import unicodedata

ELLIPSIS = "…"
ZWJ = "\u200d"  # joins emoji sequences: kept
_DROP = {"Cc", "Cf", "Cs", "Co"}
_NEWLINES = {"\n", "\r", "\x0b", "\x0c", "\x85", "\u2028", "\u2029"}


def clean(text: str, *, multiline: bool = True) -> str:
    r"""``text`` without control, format, surrogate or private-use characters.

    Newlines survive when ``multiline`` (``\r\n`` and other line breaks become ``\n``),
    otherwise every line break and tab becomes a space; whitespace at the ends is stripped.
    """
    text = text.replace("\r\n", "\n")
    out: list[str] = []
    for ch in text:
        if ch in _NEWLINES:
            out.append("\n" if multiline else " ")
        elif ch == "\t":
            out.append(" ")
        elif ch == ZWJ or unicodedata.category(ch) not in _DROP:
            out.append(ch)
    return "".join(out).strip()


def printable(text: str) -> str:
    r"""``text`` for a terminal: :func:`clean`'s characters removed, layout kept.

    For text the bot prints itself around user strings: leading indentation and blank lines
    stay, every line break (``\r`` too, which would overwrite the line) becomes ``\n``.
    """
    text = text.replace("\r\n", "\n")
    return "".join(
        "\n" if ch in _NEWLINES else ch
        for ch in text
        if ch in _NEWLINES or ch in "\t" or ch == ZWJ or unicodedata.category(ch) not in _DROP
    )


def one_line(text: str) -> str:
    """:func:`clean` for single-line fields (names, titles): runs of whitespace become one space."""
    return " ".join(clean(text, multiline=False).split())


def clip(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters, ending in ``…`` when it was cut."""
    if limit <= 0:
        return ""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def safe(text: str, limit: int, *, multiline: bool = True) -> str:
    """:func:`clean` (or :func:`one_line`), then :func:`clip`: the usual pair for a field."""
    return clip(clean(text) if multiline else one_line(text), limit)
