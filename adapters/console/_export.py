"""History exports: CSV and JSON, streamed page by page (keyset) straight from the store.

CSV follows RFC 4180 (every cell quoted, quotes doubled) and the OWASP advice on CSV
injection: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
gets a leading ``'``, so a spreadsheet shows it as text instead of running it as a formula.
"""

import csv
import io
import json
from collections.abc import AsyncIterator
from dataclasses import asdict, fields
from datetime import UTC, datetime

from bot.models import HistoryCursor, HistoryEntry, HistoryFilter
from bot.ports import RunInsights

BATCH = 500  # runs read per store query while streaming
COLUMNS = tuple(f.name for f in fields(HistoryEntry))
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutral(cell: str) -> str:
    """``cell`` as a spreadsheet shows it, never as a formula."""
    return "'" + cell if cell.startswith(FORMULA_START) else cell


def iso(ts: float) -> str:
    """A timestamp as ISO 8601 in UTC."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")


def csv_cells(entry: HistoryEntry) -> list[str]:
    """One run as CSV cells, in ``COLUMNS`` order (times as ISO 8601)."""
    values = asdict(entry)
    values["created_at"], values["updated_at"] = iso(entry.created_at), iso(entry.updated_at)
    return [neutral(str(values[c])) for c in COLUMNS]


def _line(cells: list[str]) -> str:
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerow(cells)
    return out.getvalue()


async def entries(insights: RunInsights, where: HistoryFilter) -> AsyncIterator[HistoryEntry]:
    """Every run matching ``where``, newest first, read ``BATCH`` at a time."""
    after: HistoryCursor | None = None
    while True:
        page = await insights.history(where, after, BATCH)
        for entry in page:
            yield entry
        if len(page) < BATCH:
            return
        after = page[-1].cursor


async def csv_stream(insights: RunInsights, where: HistoryFilter) -> AsyncIterator[str]:
    """The history as CSV: a header row, then one row per run."""
    yield _line(list(COLUMNS))
    async for entry in entries(insights, where):
        yield _line(csv_cells(entry))


async def json_stream(insights: RunInsights, where: HistoryFilter) -> AsyncIterator[str]:
    """The history as one JSON array of objects (times as epoch seconds)."""
    first = True
    yield "["
    async for entry in entries(insights, where):
        yield ("\n" if first else ",\n") + json.dumps(asdict(entry), ensure_ascii=False)
        first = False
    yield "\n]\n"
