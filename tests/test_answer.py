"""`valuechain answer`: the answer in words from a scenario's latest outputs (valuechain.publish.answer)."""
from __future__ import annotations

import nbformat
import pytest
from click.testing import CliRunner

from valuechain import mime
from valuechain.cli import main
from valuechain.publish.answer import answer, plain
from valuechain.report.notebook import HEADLINES_KEY

def _notebook(folder, stem, title, summary, figures):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"# {title}"), nbformat.v4.new_markdown_cell("## Executive summary"),
                nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data={"text/markdown": summary})]),
                nbformat.v4.new_code_cell(outputs=[nbformat.v4.new_output("display_data", data={mime.METRICS: figures})])]
    nbformat.write(nb, str(folder / f"{stem}.ipynb"))
    (folder / f"{stem}.html").write_text("<div>Data vintage: filed figures through 2026-08-31. Run on x.</div>")

@pytest.fixture
def outputs(tmp_path):
    folder = tmp_path / "base"
    folder.mkdir()
    heads = [{"key": "d_over_required", "label": "D / R*", "unit": "ratio", "period": "2026Q2"},
             {"key": "low", "label": "D / R*, low", "unit": "ratio", "period": "2026Q2", "detail": True},
             {"key": "share", "label": "Chips share", "unit": "share", "period": "2025"}]
    _notebook(folder, "02_demand_gap", "Is demand catching up?",
              "**The data cannot tell yet whether D reaches R\\*'s path by 2030**: the test is 0.30 wide. "
              "What would tell: one more quarter. Today D is 47% of R\\*. A fourth sentence.\n\nA second paragraph.",
              {"d_over_required": 0.4712, "low": 0.42, "share": 1.08, HEADLINES_KEY: heads})
    return tmp_path

def test_the_answer_is_the_first_three_sentences_and_the_headline_figures_with_the_vintage(outputs):
    text = answer(outputs, "base")
    assert text.splitlines()[0] == "Is demand catching up?"
    assert text.splitlines()[1] == ("The data cannot tell yet whether D reaches R*'s path by 2030: the test is 0.30 "
                                    "wide. What would tell: one more quarter. Today D is 47% of R*.")
    assert "  - D / R*, 2026Q2: 0.47" in text and "  - Chips share, 2025: 108%" in text and "108% %" not in text
    assert "D / R*, low" not in text  # detail figures stay on the page
    assert text.endswith("Scenario base; data: filed figures through 2026-08-31.")

def test_plain_text_drops_markdown_and_entities():
    assert plain("**R\\*** is &lt;b&gt; 5") == "R* is <b> 5"

def test_no_outputs_is_one_line_and_exit_2(tmp_path):
    result = CliRunner().invoke(main, ["answer", "bear", "--outputs", str(tmp_path)])
    assert result.exit_code == 2 and "run 'valuechain run bear'" in result.output and "Traceback" not in result.output
    result = CliRunner().invoke(main, ["answer", "--outputs", str(tmp_path)])
    assert result.exit_code == 2

def test_the_command_prints_the_answer(outputs):
    result = CliRunner().invoke(main, ["answer", "--outputs", str(outputs)])
    assert result.exit_code == 0 and result.output.startswith("Is demand catching up?\nThe data cannot tell yet")


def test_the_index_opens_with_the_answer_before_the_grid(outputs):
    from valuechain.publish import site

    (outputs / "base" / "parameters.json").write_text('{"title": "Base case"}')
    index = site.index_page(outputs)
    answer_at, grid_at = index.index('id="answer"'), index.index("Key figures by scenario")
    assert answer_at < grid_at
    assert "The answer (base)" in index and "The data cannot tell yet whether D reaches R*" in index[answer_at:grid_at]
    assert "A fourth sentence" not in index  # three sentences at most
