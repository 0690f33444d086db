"""Charts drawn on the server as SVG: pure functions from numbers to escaped markup.

A bar chart (horizontal bars, one per label) and a line chart (one line per series over
days), both with axes, tick labels, the values written next to what they draw and a
``<title>``, so a page is readable without JavaScript. Every bar and point also carries its
number in ``data-value`` (tests read them back). All text is escaped and cleaned
(``adapters._text``); colours are presentation attributes, which the console's CSP allows.
"""

import math
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from html import escape

from adapters._text import safe

PALETTE = ("#3b5bdb", "#c92a2a", "#2b8a3e", "#e67700", "#862e9c", "#0b7285", "#5c940d")
FONT = 'font-family="system-ui, sans-serif" font-size="12"'
NO_DATA = '<text x="8" y="24" fill="#677086">No data yet</text>'
LABEL_MAX = 40  # characters of a label drawn; the full text is in its <title>


def text(value: str, limit: int = LABEL_MAX) -> str:
    """``value`` as SVG text: one line, no control characters, clipped, escaped."""
    return escape(safe(value, limit, multiline=False), quote=True)


def number(value: float) -> str:
    """A value as drawn: integers plainly, others with up to two decimals."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def nice_max(value: float) -> float:
    """The axis end: ``value`` rounded up to 1, 2 or 5 times a power of ten (1 for nothing)."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value))
    return next(float(step * power) for step in (1, 2, 5, 10) if step * power >= value)


def axis_end(values: Sequence[float]) -> float:
    """Where a value axis ends: counts get four whole-number ticks, other values a nice end."""
    top = max(values, default=0.0)
    if all(float(v).is_integer() for v in values):
        return float(max(4, 4 * math.ceil(top / 4)))
    return nice_max(top)


def _svg(title: str, width: int, height: int, body: list[str]) -> str:
    label = text(title, 200)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-label="{label}" {FONT}><title>{label}</title>{"".join(body)}</svg>'
    )


def bar_chart(
    title: str, bars: Sequence[tuple[str, float]], *, unit: str = "", width: int = 520
) -> str:
    """Horizontal bars, one per ``(label, value)``, with a value axis and each value written."""
    if not bars:
        return _svg(title, width, 40, [NO_DATA])
    left, right, row, top = 170, 60, 24, 8
    height = top + row * len(bars) + 28
    span = width - left - right
    end = axis_end([v for _, v in bars])
    body = []
    for i, (label, value) in enumerate(bars):
        y = top + i * row
        length = span * value / end
        full = text(label, 200)
        body.append(
            f'<g class="bar" data-label="{full}" data-value="{number(value)}">'
            f"<title>{full}: {number(value)}{text(unit)}</title>"
            f'<text x="{left - 6}" y="{y + 16}" text-anchor="end">{text(label, 24)}</text>'
            f'<rect x="{left}" y="{y + 4}" width="{length:.1f}" height="{row - 8}" '
            f'fill="{PALETTE[0]}"/>'
            f'<text x="{left + length + 4:.1f}" y="{y + 16}">{number(value)}{text(unit)}</text></g>'
        )
    axis_y = top + row * len(bars) + 2
    body.append(_value_axis(left, span, axis_y, end, unit))
    return _svg(title, width, height, body)


def _value_axis(left: int, span: int, y: int, end: float, unit: str) -> str:
    ticks = [
        f'<line x1="{left + span * k / 4:.1f}" y1="{y}" x2="{left + span * k / 4:.1f}" '
        f'y2="{y + 4}" stroke="#677086"/>'
        f'<text x="{left + span * k / 4:.1f}" y="{y + 16}" text-anchor="middle" fill="#677086">'
        f"{number(end * k / 4)}{text(unit)}</text>"
        for k in range(5)
    ]
    line = f'<line x1="{left}" y1="{y}" x2="{left + span}" y2="{y}" stroke="#677086"/>'
    return f'<g class="axis">{line}{"".join(ticks)}</g>'


def day_label(day: float) -> str:
    """A UTC day for an axis: ``Mar 05``."""
    return datetime.fromtimestamp(day, UTC).strftime("%b %d")


def line_chart(
    title: str,
    days: Sequence[float],
    series: Mapping[str, Mapping[float, float]],
    *,
    width: int = 720,
    height: int = 260,
) -> str:
    """One line per series over ``days`` (UTC midnights), a legend, axes and the day labels."""
    if not days or not series:
        return _svg(title, width, 40, [NO_DATA])
    left, right, top, bottom = 48, 30, 28, 36
    span_x, span_y = width - left - right, height - top - bottom
    end = axis_end([v for s in series.values() for v in s.values()])
    step = span_x / max(1, len(days) - 1)

    def x(i: int) -> float:
        return left + (step * i if len(days) > 1 else span_x / 2)

    def y(v: float) -> float:
        return top + span_y * (1 - v / end)

    body = [_grid(left, span_x, top, span_y, end), _day_axis(days, x, top + span_y)]
    for n, (name, values) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        points = [(x(i), y(values.get(d, 0.0)), values.get(d, 0.0)) for i, d in enumerate(days)]
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in points)
        dots = "".join(
            f'<circle class="point" cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}" '
            f'data-day="{day_label(d)}" data-value="{number(v)}">'
            f"<title>{text(name)} {day_label(d)}: {number(v)}</title></circle>"
            for (px, py, v), d in zip(points, days, strict=True)
        )
        legend = (
            f'<rect x="{left + n * 130}" y="6" width="10" height="10" fill="{colour}"/>'
            f'<text x="{left + n * 130 + 14}" y="15">{text(name, 16)}</text>'
        )
        body.append(
            f'<g class="series" data-series="{text(name, 200)}">{legend}'
            f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>'
            f"{dots}</g>"
        )
    return _svg(title, width, height, body)


def _grid(left: int, span_x: float, top: int, span_y: float, end: float) -> str:
    lines = []
    for k in range(5):
        gy = top + span_y * (1 - k / 4)
        lines.append(
            f'<line x1="{left}" y1="{gy:.1f}" x2="{left + span_x:.1f}" y2="{gy:.1f}" '
            f'stroke="#dde1e8"/><text x="{left - 6}" y="{gy + 4:.1f}" text-anchor="end" '
            f'fill="#677086">{number(end * k / 4)}</text>'
        )
    return f'<g class="axis">{"".join(lines)}</g>'


def _day_axis(days: Sequence[float], place: Callable[[int], float], base: float) -> str:
    every = max(1, math.ceil(len(days) / 10))  # at most ten labels
    labels = "".join(
        f'<text x="{place(i):.1f}" y="{base + 18:.1f}" text-anchor="middle" fill="#677086">'
        f"{day_label(d)}</text>"
        for i, d in enumerate(days)
        if i % every == 0 or i == len(days) - 1
    )
    return f'<g class="axis days">{labels}</g>'
