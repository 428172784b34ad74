"""The HTML report: every section present, self-contained (no external URL), figures valid
Plotly JSON, user strings escaped, numbers formatted one way, and ``echelon report``."""

from __future__ import annotations

import json
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import plotly.graph_objects as go
import pytest
from hypothesis import given
from hypothesis import strategies as st
from report_factories import EVIL_ITEM, EVIL_STORE, SAVING, make_minimal_result, make_result

from echelon.plan.model import NetworkNode, PlanResult, exception_order
from echelon.report import formatting as f
from echelon.report import render_report, write_report
from echelon.report.charts import fan_figure, node_positions, quantile_bands, script_json
from echelon.report.html import plotly_js
from echelon.report.tables import kpi_tiles, network_row, sorted_exceptions, store_rows

SECTIONS = (
    "kpis", "network", "curve", "stores", "forecasts", "exceptions", "recommendations",
    "placements", "shadow", "run",
)  # fmt: skip
URL_ATTRIBUTES = {"src", "href", "action", "formaction", "data", "poster", "srcset", "xlink:href"}


class _Page(HTMLParser):
    """Collects tags, URL-like attributes, and the text of every script element."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.ids: set[str] = set()
        self.urls: list[str] = []
        self.tags: list[str] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.severities: list[str] = []
        self._script: dict[str, str | None] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        self.urls += [v for k, v in attrs if k in URL_ATTRIBUTES and v is not None]
        cls = a.get("class") or ""
        if cls.startswith("sev sev-"):
            self.severities.append(cls.removeprefix("sev sev-"))
        if tag == "script":
            self._script = a

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self.scripts.append((self._script, data))
            self._script = None

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None


@pytest.fixture(scope="module")
def result() -> PlanResult:
    return make_result()


@pytest.fixture(scope="module")
def page_html(result: PlanResult) -> str:
    return render_report(result)


@pytest.fixture(scope="module")
def page(page_html: str) -> _Page:
    parser = _Page()
    parser.feed(page_html)
    return parser


def _figures(page: _Page) -> list[dict]:
    figs: list[dict] = []
    for attrs, text in page.scripts:
        if attrs.get("type") == "application/json":
            obj = json.loads(text)
            figs += obj if isinstance(obj, list) else [obj]
    return figs


def test_report_has_every_section_and_chart(page: _Page) -> None:
    assert set(SECTIONS) <= page.ids
    assert {"network-chart", "curve-chart", "fan-chart", "fan-select"} <= page.ids


def test_report_references_no_external_resource(page_html: str, page: _Page) -> None:
    assert "link" not in page.tags and "iframe" not in page.tags
    external = [u for u in page.urls if re.match(r"\s*(https?:)?//", u, re.IGNORECASE)]
    assert external == []
    assert all(u.startswith("#") for u in page.urls)  # only in-page anchors
    outside_plotly = page_html.replace(plotly_js(), "")
    assert re.search(r"https?://", outside_plotly) is None
    assert "url(" not in outside_plotly


def test_plotly_js_is_inlined_exactly_once(page_html: str, page: _Page) -> None:
    assert page_html.count(plotly_js()) == 1
    assert all(attrs.get("src") is None for attrs, _ in page.scripts)


def test_every_figure_is_valid_plotly_json(page: _Page, result: PlanResult) -> None:
    figs = _figures(page)
    assert len(figs) == 2 + len(result.forecasts)  # network, curve, one fan per series
    for fig in figs:
        go.Figure(fig)  # raises on any property Plotly does not know


def test_user_strings_are_escaped(page_html: str) -> None:
    assert "<script>alert" not in page_html
    for raw in ('<b>"bold"</b>', "<b>x</b>", "<i>now</i>", "<plan>"):
        assert raw not in page_html
    assert "Zürich &lt;script&gt;alert(&#39;store&#39;)&lt;/script&gt;" in page_html
    assert "Ünïcødé" in page_html and "M5 demo &lt;plan&gt; ✓" in page_html


def test_figure_labels_escape_markup_for_plotly(page: _Page) -> None:
    network = _figures(page)[0]
    labels = network["data"][1]["text"]
    assert "Zürich &lt;script&gt;alert('store')&lt;/script&gt;" in labels
    fan_titles = [fig["layout"]["title"]["text"] for fig in _figures(page)[2:]]
    assert any(t.startswith('FOODS_9 &lt;b&gt;"bold"&lt;/b&gt; &amp; Ü') for t in fan_titles)


def test_exceptions_are_listed_most_severe_first(page: _Page, result: PlanResult) -> None:
    assert page.severities == ["high", "medium", "low", "low"]
    ordered = sorted_exceptions(result.exceptions)
    # the one ordering of the CLI and the plan: severity, then kind in ExceptionKind order
    assert [e.kind.value for e in ordered] == [
        "stockout_risk", "forecast_bias", "excess", "data_quality",
    ]  # fmt: skip
    assert ordered == sorted(result.exceptions, key=exception_order)


def test_kpi_tiles_show_meio_against_baselines(result: PlanResult, page_html: str) -> None:
    tiles = {t.label: t for t in kpi_tiles(result)}
    assert tiles["Inventory value (USD)"].main == "7,650"
    assert dict(tiles["Inventory value (USD)"].others) == {
        "single-echelon": "10,000",
        "current policy": "12,100",  # PolicyName.CURRENT.label, as in the CLI
    }
    assert tiles["Fill rate"].main == "96.2%"
    assert tiles["Saving vs single-echelon"].main == f.pct(SAVING) == "23.5%"
    assert tiles["Saving vs single-echelon"].good is True
    assert tiles["Service target met"].main == "yes"
    for tile in tiles.values():
        assert f'<div class="main">{tile.main}</div>' in page_html


def test_store_rows_compare_meio_with_single_echelon(result: PlanResult) -> None:
    rows = store_rows(result)
    assert [r.store for r in rows] == ["CA_1", "CA_2", "TX_1", EVIL_STORE]
    for r in rows:
        assert r.meio.inventory_value is not None and r.single.inventory_value is not None
        expected = 1 - r.meio.inventory_value / r.single.inventory_value
        assert r.saving == pytest.approx(expected)
        assert r.saving == pytest.approx(SAVING)  # the fixture scales every store alike


def test_empty_run_renders_with_every_section_saying_so() -> None:
    html = render_report(make_minimal_result())
    parser = _Page()
    parser.feed(html)
    assert set(SECTIONS) - {"shadow"} <= parser.ids and "shadow" not in parser.ids
    for text in ("No exceptions.", "No recommendations today.", "The run has no forecasts."):
        assert text in html
    assert _figures(parser) == []


def test_write_report_is_atomic_and_overwrites(tmp_path: Path, result: PlanResult) -> None:
    path = tmp_path / "out" / "report.html"
    assert write_report(result, path) == path
    first = path.read_text(encoding="utf-8")
    assert first.startswith("<!DOCTYPE html>") and first.rstrip().endswith("</html>")
    write_report(make_minimal_result(), path)
    assert "empty" in path.read_text(encoding="utf-8")
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]  # no temp file left


def test_fan_series_beyond_the_limit_are_left_out_and_said(result: PlanResult) -> None:
    html = render_report(result, max_fan_series=3)
    parser = _Page()
    parser.feed(html)
    assert len(_figures(parser)) == 2 + 3
    assert f"{len(result.forecasts) - 3} more series are in the run" in html


# ----------------------------------------------------------------------------- helpers
def test_quantile_bands_pair_symmetric_levels_outermost_first() -> None:
    levels = {q: [0.0] for q in ("0.5", "0.9", "0.1", "0.75", "0.25", "0.95", "p10", "1.5")}
    pairs, singles = quantile_bands(levels)
    assert pairs == [("0.1", "0.9"), ("0.25", "0.75")]
    assert singles == ["0.5", "0.95"]


def test_node_positions_put_tiers_in_rows_under_their_suppliers() -> None:
    nodes = [NetworkNode(id=n, tier=t, x=0, y=0) for n, t in
             (("S2", 0), ("S1", 0), ("S3", 0), ("DA", 1), ("DB", 1), ("US", 2))]  # fmt: skip
    lanes = [("US", "DA"), ("US", "DB"), ("DB", "S2"), ("DA", "S1"), ("DA", "S3")]
    pos = node_positions(nodes, lanes)
    assert {n: y for n, (_, y) in pos.items()} == {
        "S1": 0, "S2": 0, "S3": 0, "DA": 1, "DB": 1, "US": 2,
    }  # fmt: skip
    assert pos["US"][0] == 0.5
    assert pos["DA"][0] < pos["DB"][0]
    assert max(pos["S1"][0], pos["S3"][0]) < pos["S2"][0]  # DA's stores left of DB's


def test_node_positions_keep_distinct_coordinates_of_the_run() -> None:
    nodes = [NetworkNode(id="A", tier=1, x=3.0, y=1.0), NetworkNode(id="B", tier=0, x=4, y=0)]
    assert node_positions(nodes, [("A", "B")]) == {"A": (3.0, 1.0), "B": (4.0, 0.0)}


def test_number_formats() -> None:
    assert f.money(1234567.4, "USD") == "1,234,567 USD"
    assert f.money(None, "USD") == "—"
    assert f.units(1234.56) == "1,234.6"
    assert f.pct(0.9512) == "95.1%"
    assert f.pct(-0.05, signed=True) == "-5.0%" and f.pct(0.05, signed=True) == "+5.0%"
    assert f.pct_ci(0.95, 0.0123) == "95.0% ± 1.2"
    assert f.pct_ci(0.973, 0.0004) == "97.3% ± <0.1" and f.pct_ci(1.0, 0.0) == "100.0% ± 0.0"
    assert f.days(23.44) == "23.4 d" and f.turns(8.25) == "8.2/yr"
    assert f.num(math.nan) == f.num(math.inf) == f.units(None) == "—"
    assert f.yes_no(None) == "—" and f.yes_no(False) == "no"


@given(st.floats(min_value=0, max_value=1))
def test_pct_reads_back_within_rounding(x: float) -> None:
    assert abs(float(f.pct(x).rstrip("%").replace(",", "")) / 100 - x) <= 0.0005 + 1e-12


@given(st.text())
def test_script_json_never_closes_the_script_element(text: str) -> None:
    encoded = script_json({"s": text, "n": [1.5, None]})
    assert "<" not in encoded and ">" not in encoded and "&" not in encoded
    assert json.loads(encoded) == {"s": text, "n": [1.5, None]}


def test_script_json_rejects_nan() -> None:
    with pytest.raises(ValueError):
        script_json({"x": math.nan})


def test_plan_result_json_roundtrip_renders_the_same_page(result: PlanResult) -> None:
    again = PlanResult.model_validate_json(result.model_dump_json())
    assert render_report(again) == render_report(result)  # byte for byte
    assert EVIL_ITEM in again.items


def test_missing_and_non_finite_forecast_values_become_gaps(result: PlanResult) -> None:
    series = result.forecasts[0].model_copy(
        update={"mean": [math.nan, math.inf, *result.forecasts[0].mean[2:]]}
    )
    fig = fan_figure(series, period_days=7)
    mean = next(t for t in fig["data"] if t["name"] == "forecast mean")
    assert mean["y"][:2] == [None, None]
    assert mean["y"][2] == pytest.approx(series.mean[2], rel=1e-6)
    json.loads(script_json(fig))  # strict JSON: no NaN left


@given(st.lists(st.integers(min_value=0, max_value=3), min_size=1, max_size=12))
def test_node_positions_give_every_node_its_own_place_in_its_tier_row(tiers: list[int]) -> None:
    nodes = [NetworkNode(id=f"N{i}", tier=t, x=0, y=0) for i, t in enumerate(tiers)]
    lanes = [(a.id, b.id) for a in nodes for b in nodes if a.tier == b.tier + 1 and hash(a.id) % 2]
    pos = node_positions(nodes, lanes)
    assert set(pos) == {n.id for n in nodes}
    assert len(set(pos.values())) == len(nodes)
    for n in nodes:
        x, y = pos[n.id]
        assert y == n.tier and 0 < x < 1


def test_store_table_ends_with_the_network_row(result: PlanResult, page_html: str) -> None:
    row = network_row(result)
    assert row is not None and row.saving == pytest.approx(SAVING)
    assert row.meio == result.kpis[0].network
    foot = page_html[page_html.index("<tfoot>") : page_html.index("</tfoot>")]
    assert "network (all locations)" in foot and f.pct(SAVING) in foot
