"""The SVG charts: well-formed markup, axes and labels, the numbers drawn, hostile text inert."""

import xml.etree.ElementTree as ET

import pytest

from adapters.console import _svg as svg
from tests.support.hostile import HOSTILE

NS = {"s": "http://www.w3.org/2000/svg"}
DAY = 86400.0
D0 = 20 * 365 * DAY


def parse(markup: str) -> ET.Element:
    return ET.fromstring(markup)  # noqa: S314  (our own output, parsed to check it is well-formed)


def bars_of(markup: str) -> list[tuple[str, str]]:
    root = parse(markup)
    return [
        (g.get("data-label", ""), g.get("data-value", ""))
        for g in root.iter(f"{{{NS['s']}}}g")
        if g.get("class") == "bar"
    ]


def texts(markup: str) -> list[str]:
    return ["".join(t.itertext()) for t in parse(markup).iter(f"{{{NS['s']}}}text")]


def test_bar_chart_draws_each_value_with_an_axis_and_a_title() -> None:
    chart = svg.bar_chart("Decisions per moderator", [("dana", 3.0), ("eve", 1.0)])

    root = parse(chart)

    assert root.get("role") == "img"
    assert root.findtext("s:title", namespaces=NS) == "Decisions per moderator"
    assert bars_of(chart) == [("dana", "3"), ("eve", "1")]
    widths = [float(r.get("width", "0")) for r in root.iter(f"{{{NS['s']}}}rect")]
    assert widths[0] == pytest.approx(3 * widths[1])  # lengths are proportional to the values
    assert {"dana", "eve", "3", "1"} <= set(texts(chart))
    assert [t for t in texts(chart) if t.isdigit()][2:] == ["0", "1", "2", "3", "4"]  # the axis


def test_line_chart_draws_one_point_per_day_and_series_with_day_labels() -> None:
    days = [D0, D0 + DAY, D0 + 2 * DAY]
    chart = svg.line_chart(
        "Requests", days, {"Discord": {D0: 2.0, D0 + 2 * DAY: 5.0}, "Slack": {D0 + DAY: 1.0}}
    )

    root = parse(chart)
    series = [g for g in root.iter(f"{{{NS['s']}}}g") if g.get("class") == "series"]
    values = {
        g.get("data-series"): [c.get("data-value") for c in g.iter(f"{{{NS['s']}}}circle")]
        for g in series
    }

    assert values == {"Discord": ["2", "0", "5"], "Slack": ["0", "1", "0"]}
    assert texts(chart)[5:8] == ["Dec 27", "Dec 28", "Dec 29"]  # the days (UTC)
    assert len(root.findall(".//s:polyline", NS)) == 2


def test_charts_without_data_say_so() -> None:
    assert "No data yet" in svg.bar_chart("Top rejection reasons", [])
    assert "No data yet" in svg.line_chart("Requests", [], {})


@pytest.mark.parametrize(("name", "hostile"), HOSTILE, ids=[n for n, _ in HOSTILE])
def test_hostile_labels_are_escaped_and_inert(name: str, hostile: str) -> None:
    label = f'{hostile} "quoted" <svg onload=alert(1)> & </text><script>x</script>'
    bar = svg.bar_chart(label, [(label, 1.0)])
    line = svg.line_chart(label, [D0], {label: {D0: 1.0}})

    for chart in (bar, line):
        root = parse(chart)  # still well-formed: nothing broke out of its element
        tags = {e.tag.split("}")[1] for e in root.iter()}
        assert tags <= {"svg", "title", "g", "text", "rect", "line", "polyline", "circle"}
        assert not any(k.startswith("on") for e in root.iter() for k in e.attrib)
        assert "<script" not in chart
        assert "<svg onload" not in chart
        assert not any(ch in chart for ch in "\x00\x07\x1b\u202e")


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 1.0), (0.3, 0.5), (7, 10.0), (12, 20.0), (130, 200.0)]
)
def test_nice_max_rounds_up(value: float, expected: float) -> None:
    assert svg.nice_max(value) == expected


def test_count_axes_end_on_four_whole_ticks() -> None:
    assert svg.axis_end([1.0, 3.0]) == 4.0
    assert svg.axis_end([9.0]) == 12.0
    assert svg.axis_end([0.7]) == 1.0
