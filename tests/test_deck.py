"""The deck (publish/deck.py): native chart objects holding the charts' exact series, one title per slide
stating the finding, the source line once, speaker notes on every slide. Built in process from the
charts the notebooks draw, read back with python-pptx."""
import io

import pytest

from valuechain.mime import CHART
from valuechain.publish import deck
from valuechain.publish.outputs import Notebook
from valuechain.report import charts

pptx = pytest.importorskip("pptx")


@pytest.fixture(scope="module")
def made(ds, base_pool, base_gap):
    source = charts.source_line(ds, base_pool.sources, "base")
    bridge_source = charts.source_line(ds, base_gap.bridges.sources, "base")
    return [charts.profit_pool_chart(base_pool.layers, 2025, source), charts.demand_fan_chart(base_gap, source),
            charts.bridge_chart(base_gap.bridges, bridge_source), charts.yield_chart(base_gap, source)]


@pytest.fixture(scope="module")
def slides(made):
    data = [c._repr_mimebundle_()[CHART] for c in made]
    summary = [("**In 2025 chips captured 108% of the chain's operating profit on 67% of its revenue** "
                "(USD 146.8bn on USD 259.6bn).\n\nThe labs lost USD 28.6bn.")]
    books = [Notebook("01_profit_capture", "Profit capture", summary=summary, charts=data)]
    built = deck.build("base", {"title": "Base case", "description": "The base case."}, books, "2026-08-31")
    return list(pptx.Presentation(io.BytesIO(built)).slides)


def _texts(slide):
    return [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]


def _charts(slide):
    return [shape.chart for shape in slide.shapes if shape.has_chart]


def test_main_charts_are_native_chart_objects_with_the_exact_series(slides, made, base_pool, base_gap):
    main = [c for c in made if c.main]
    chart_slides = slides[2:]
    assert [s.shapes.title.text for s in chart_slides] == [c.title for c in main]  # the diagnostic chart is left out
    pool_chart, = _charts(chart_slides[0])
    layers = base_pool.layers[base_pool.layers["year"] == 2025].set_index("layer")
    plot = pool_chart.plots[0]
    assert list(plot.categories) == ["Chips", "Servers", "Cloud", "Labs", "Apps"]
    series = {s.name: list(s.values) for s in plot.series}
    assert series["Share of chain revenue"] == pytest.approx(list(layers.loc[["chips", "servers", "cloud", "labs", "apps"], "revenue_share"]))
    assert series["Share of chain operating profit"] == pytest.approx(list(layers.loc[["chips", "servers", "cloud", "labs", "apps"], "profit_share"]))

    demand, = _charts(chart_slides[1])
    series = {s.name: list(s.values) for s in demand.plots[0].series}
    quarters = list(demand.plots[0].categories)
    assert {"D, strict scope", "D, central scope", "D, broad scope", "R* in service", "R*'s committed path"} <= set(series)
    q = str(base_gap.closing.last_quarter)
    for scope in ("strict", "central", "broad"):  # the scope ladder, at the gap quarter
        assert series[f"D, {scope} scope"][quarters.index(q)] == pytest.approx(base_gap.ladder.levels.loc[q, scope])
    assert series["R* in service"][quarters.index(q)] == pytest.approx(base_gap.required.loc[q, "required_usd_bn"])
    assert demand.value_axis._element.find(".//{*}logBase").get("val") == "10"

    bridges = _charts(chart_slides[2])
    assert len(bridges) == len(base_gap.bridges.bridges)
    for chart, b in zip(bridges, base_gap.bridges.bridges):
        series = {s.name: list(s.values) for s in chart.plots[0].series}
        assert series["Bar and R*"][0] == pytest.approx(b.start_usd_bn)
        assert series["Bar and R*"][-1] == pytest.approx(b.end_usd_bn)
        # each step's bar spans the change from the value before it to the value after it
        before = b.start_usd_bn
        for i, step in enumerate(b.steps, start=1):
            lowers, raises = series["Lowers"][i] or 0.0, series["Raises"][i] or 0.0
            assert (raises - lowers) == pytest.approx(step.change_usd_bn) and min(lowers, raises) == 0.0
            assert series["Base"][i] == pytest.approx(min(before, step.value_usd_bn))
            before = step.value_usd_bn
        assert chart.plots[0].series[0].format.fill.type == 5  # the base is not filled (MSO_FILL.BACKGROUND)


def test_each_slide_has_one_title_one_source_line_and_notes(slides, made):
    for slide in slides:
        assert slide.has_notes_slide and slide.notes_slide.notes_text_frame.text.strip()
        title = slide.shapes.title.text
        texts = _texts(slide)
        assert sum(title in t for t in texts) == 1  # the title shape only
        for chart in _charts(slide):
            assert not chart.has_title or chart.chart_title.text_frame.text != title
    for slide, chart in zip(slides[2:], [c for c in made if c.main]):
        assert sum(chart.source in t for t in _texts(slide)) == 1
        notes = slide.notes_slide.notes_text_frame.text
        assert notes == f"{chart.method} {chart.source}" and chart.method.count(". ") == 0


def test_a_summary_slide_is_titled_with_its_lead_sentence_said_once(slides):
    title = slides[1].shapes.title.text
    assert title == "In 2025 chips captured 108% of the chain's operating profit on 67% of its revenue"
    body = [t for t in _texts(slides[1]) if t != title]
    assert body == ["(USD 146.8bn on USD 259.6bn).\nThe labs lost USD 28.6bn."]


@pytest.mark.parametrize("items, title, body", [
    (["**OpenAI** starts from $37.0bn of revenue. It breaks even in 2029."], "OpenAI starts from $37.0bn of revenue",
     ["It breaks even in 2029."]),
    (["• **Chips share, 2030**: 75% at the scenario's values.", "• **D / R***: 0.47."],
     "Chips share, 2030: 75% at the scenario's values", ["• **D / R***: 0.47."]),
])
def test_the_lead_of_a_summary(items, title, body):
    assert deck.lead(items) == (title, body)


def test_a_chart_recorded_without_its_series_shows_its_picture_and_no_second_title(made):
    data = {**made[0]._repr_mimebundle_()[CHART], "native": []}
    built = deck.build("base", {"title": "Base"}, [Notebook("01", "Profit", charts=[data])])
    slide = list(pptx.Presentation(io.BytesIO(built)).slides)[-1]
    assert [shape.shape_type for shape in slide.shapes] == [13]  # the picture alone: it carries title and source
    assert slide.notes_slide.notes_text_frame.text == f"{made[0].method} {made[0].source}"
