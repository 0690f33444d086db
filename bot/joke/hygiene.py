"""Output and input hygiene for the joke flow: topic and joke cleanup, blocklist, near-duplicates.

Everything here is cheap, deterministic and provider-independent.
"""

import difflib
import re
import unicodedata
from collections.abc import Iterable
from functools import cache
from importlib import resources

from bot.errors import BadRequest
from bot.joke import prompts

DUPLICATE_RATIO = 0.75
_CONTROL = {"Cc", "Cf", "Cs", "Co"}
_ZWJ = "\u200d"  # keeps emoji sequences (family, profession emoji) intact
_QUOTE_PAIRS = {
    '"': '"',
    "\u201c": "\u201d",  # curly double quotes
    "\u2018": "\u2019",  # curly single quotes
    "'": "'",
    "\u00ab": "\u00bb",  # guillemets
    "`": "`",
    "\u201e": "\u201c",  # German low-high quotes
}
_APOSTROPHE = "'\u2019"  # straight or curly, as in "here's"
_BOLD = re.compile(r"(\*\*|__)(.+?)\1", re.S)
# "Sure!", "Okay, ", "Of course." ... only when punctuation follows, so "Great minds..." survives
_INTERJECTION = (
    r"(?:sure(?: thing)?|okay|ok|of course|certainly|absolutely|alright|all right|no problem"
    r"|here you go|here goes)\s*[!,.:;]+\s*"
)
_PREFIX = re.compile(
    rf"^(?:{_INTERJECTION})*"
    rf"(?:here(?:[{_APOSTROPHE}]s| is)\b[^:\n?]{{0,80}}?:\s*)?"
    r"(?:(?:joke|q|question)(?:\s*#?\d+)?\s*:\s*)?",
    re.I,
)
_PREAMBLE_LINE = re.compile(rf"^here(?:[{_APOSTROPHE}]s| is)\b[^?]*\bjokes?\b[^?]*$", re.I)
_ANSWER_LABEL = re.compile(r"^(?:a|answer|punchline)\s*:\s*", re.I)
Blocklist = tuple[tuple[str, re.Pattern[str]], ...]  # (entry as written, its pattern)
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)


def clean_topic(raw: str, max_len: int = 100) -> str:
    """The topic with control characters removed, whitespace collapsed and length capped.

    Raises:
        BadRequest: when nothing is left (the message tells the user what to type).
    """
    text = unicodedata.normalize("NFKC", raw)
    kept = (" " if ch.isspace() else ch for ch in text if ch.isspace() or not _is_control(ch))
    text = _collapse("".join(kept))
    if len(text) > max_len:
        text = _cut_at_word(text, max_len)
    if not text:
        raise BadRequest(prompts.TOPIC_EMPTY)
    return text


def clean_joke(raw: str, max_len: int = 300) -> str:
    """The first joke in a model reply, without chatter, quotes or markdown; "" if none.

    A one-line joke is kept as is; a question whose punchline is on the next line is kept as
    two lines. Longer texts are cut at a word boundary and end with an ellipsis.
    """
    text = _BOLD.sub(r"\2", raw).replace("**", "")
    lines = [line for line in (_collapse(x) for x in text.splitlines()) if line]
    while lines:
        first = _strip_quotes(_PREFIX.sub("", lines[0], count=1))
        if first and not _PREAMBLE_LINE.match(first):
            lines[0] = first
            break
        lines.pop(0)  # the line was only a preamble such as "Sure! Here's a joke:"
    if not lines:
        return ""
    joke = lines[0]
    if len(lines) > 1 and joke.endswith("?"):
        answer = _strip_quotes(_ANSWER_LABEL.sub("", lines[1]))
        if answer and not answer.endswith("?"):  # a second question starts another joke
            joke = f"{joke}\n{answer}"
    return _cap(joke, max_len)


def looks_unfinished(text: str) -> bool:
    """True when a joke stops mid-sentence, as replies cut off by ``max_tokens`` do."""
    last = text.rstrip()[-1:]
    return not last or last.isalnum() or last in ",;:-("


def blocked_term(text: str, entries: Blocklist | None = None) -> str | None:
    """The blocklist entry that ``text`` matches, or None when it is clean.

    ``entries`` (from :func:`compile_blocklist`) replace the bot's own ``blocklist.txt``.
    """
    variants = {_fold(text), _fold(text).translate(_LEET)}
    for entry, pattern in _blocklist() if entries is None else entries:
        if any(pattern.search(v) for v in variants):
            return entry
    return None


def compile_blocklist(lines: Iterable[str]) -> Blocklist:
    """Compile blocklist lines (``word``, ``stem*``, ``two words``; ``#`` comments)."""
    entries = []
    for line in lines:
        entry = " ".join(_fold(line.split("#", 1)[0]).split())
        if not entry:
            continue
        words = entry.rstrip("*").split()
        body = r"[\s_-]+".join(re.escape(w) for w in words)
        tail = r"\w*" if entry.endswith("*") else r"(?:s|es)?"
        entries.append((entry, re.compile(rf"(?<!\w){body}{tail}(?!\w)")))
    return tuple(entries)


def normalise_joke(text: str) -> str:
    """Lowercased, punctuation stripped, whitespace collapsed: the form compared for duplicates."""
    return _collapse(re.sub(r"[^\w\s]", " ", _fold(text)))


def is_near_duplicate(text: str, others: Iterable[str], ratio: float = DUPLICATE_RATIO) -> bool:
    """True when ``text`` is more than ``ratio`` similar to any of ``others`` (normalised)."""
    mine = normalise_joke(text)
    for other in others:
        matcher = difflib.SequenceMatcher(None, mine, normalise_joke(other), autojunk=False)
        if matcher.ratio() > ratio:
            return True
    return False


@cache
def _blocklist() -> Blocklist:
    data = resources.files("bot.joke").joinpath("blocklist.txt").read_text(encoding="utf-8")
    return compile_blocklist(data.splitlines())


def _is_control(ch: str) -> bool:
    return ch != _ZWJ and unicodedata.category(ch) in _CONTROL


def _fold(text: str) -> str:
    """Casefolded, compatibility-normalised text without accents ("Führer" -> "fuhrer")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).strip()


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _strip_quotes(text: str) -> str:
    text = text.strip()
    while len(text) >= 2 and _QUOTE_PAIRS.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    # a reply cut off by max_tokens may open a quote it never closes (or close one never opened)
    if text.count('"') == 1 and (text[0] == '"' or text[-1] == '"'):
        text = text.strip('"').strip()
    if text[:1] == "\u201c" and "\u201d" not in text:
        text = text[1:].strip()
    if text[-1:] == "\u201d" and "\u201c" not in text:
        text = text[:-1].strip()
    return text


def _cut_at_word(text: str, limit: int) -> str:
    """At most ``limit`` characters, ending at a word boundary when one is reasonably near."""
    cut = text[:limit]
    if len(text) > limit and not text[limit].isspace():
        space = max(cut.rfind(" "), cut.rfind("\n"))
        if space > limit // 2:
            cut = cut[:space]
    return cut.rstrip()


def _cap(text: str, max_len: int) -> str:
    if len(text) <= max_len:
        return text
    return _cut_at_word(text, max_len - 1).rstrip(" \n,;:-\u2013\u2014") + "\u2026"
