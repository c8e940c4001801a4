import json
import re

import nbformat
import pandas as pd
import pytest

from conftest import write_notebook as _notebook

from valuechain import runner, site
from valuechain.exceptions import ParameterError


def _run(tiny, **kw):
    params, notebooks, outputs = tiny
    return runner.run(outputs=outputs, params_dir=params, notebooks_dir=notebooks, progress=False, jobs=2, **kw)


def test_batch_writes_files_caches_and_reruns_only_what_changed(tiny):
    params, notebooks, outputs = tiny
    first = _run(tiny)
    assert [(o.scenario, o.status) for o in first] == [("base", "ok"), ("other", "ok")]
    for name in ("base", "other"):
        for suffix in ("ipynb", "html", "json", "inputs"):
            assert (outputs / name / f"01_quick.{suffix}").exists()
        assert (outputs / name / "metrics.json").exists() and (outputs / name / "parameters.json").exists()
    assert (outputs / "metrics.csv").exists() and (outputs / "run.json").exists()
    assert not (outputs / ".tmp").exists()

    second = _run(tiny)
    assert all(o.status == "cached" and o.cached for o in second)

    (params / "other.yaml").write_text((params / "other.yaml").read_text() + "layers: {cloud: {pass_through: 0.5}}\n")
    third = _run(tiny)
    assert {o.scenario: o.status for o in third} == {"base": "cached", "other": "ok"}
    assert json.loads((outputs / "other" / "metrics.json").read_text())["01_quick"]["cloud_pass_through"] == 0.5

    forced = _run(tiny, force=True)
    assert all(o.status == "ok" for o in forced)


def test_ctrl_c_handler_is_restored_and_runs_work_off_the_main_thread(tiny):
    import signal
    import threading

    before = signal.getsignal(signal.SIGINT)
    assert [o.status for o in _run(tiny, force=True)] == ["ok", "ok"]
    assert signal.getsignal(signal.SIGINT) is before  # the batch's own handler is gone afterwards

    seen = []
    worker = threading.Thread(target=lambda: seen.extend(o.status for o in _run(tiny, force=True)))
    worker.start()
    worker.join(timeout=300)
    assert seen == ["ok", "ok"]  # no signal handler can be installed there, and none is needed


def test_comparison_table_matches_each_metrics_json(tiny):
    _, _, outputs = tiny
    _run(tiny)
    table = pd.read_csv(outputs / "metrics.csv")
    assert list(table["scenario"]) == ["base", "other"]
    for _, row in table.iterrows():
        figures = json.loads((outputs / row["scenario"] / "metrics.json").read_text())["01_quick"]
        assert row["01_quick.b"] == figures["b"]
        assert row["01_quick.cloud_pass_through"] == figures["cloud_pass_through"]


def test_failing_notebook_fails_alone_and_keeps_the_previous_good_output(tiny):
    params, notebooks, outputs = tiny
    _run(tiny)
    good = (outputs / "other" / "01_quick.html").read_bytes()
    (params / "other.yaml").write_text((params / "other.yaml").read_text() + "layers: {cloud: {pass_through: 0.25}}\n")
    _notebook(notebooks / "02_broken.ipynb", "raise RuntimeError('deliberate failure for ' + scenario)")
    outcomes = _run(tiny)
    status = {(o.scenario, o.notebook): o for o in outcomes}
    assert status[("other", "01_quick")].status == "ok"
    broken = status[("base", "02_broken")]
    assert broken.status == "failed" and "RuntimeError: deliberate failure" in broken.error
    assert broken.failing_cell == 3  # execution count: the markdown cell does not count, the injected parameters do
    failed_nb = nbformat.read(str(outputs / "base" / "02_broken.failed.ipynb"), as_version=4)
    assert any("papermill-error-cell-tag" in c.metadata.get("tags", []) or c.metadata.get("tags") == ["papermill-error-cell-tag"]
               for c in failed_nb.cells) or "An Exception was encountered" in json.dumps(failed_nb)
    assert not (outputs / "base" / "02_broken.html").exists()
    assert (outputs / "other" / "01_quick.html").read_bytes() != good  # the changed scenario was re-run
    index = site.publish(outputs, rerender=False).read_text()
    assert "FAILED: 02_broken" in index and "02_broken.failed.ipynb" in index


def test_site_escapes_user_text_and_stays_on_the_machine(tiny):
    _, _, outputs = tiny
    _run(tiny)
    index = site.publish(outputs).read_text()
    page = (outputs / "other" / "01_quick.html").read_text()
    for text in (index, page):
        assert "<script>alert('x')</script>" not in text
        assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in text
        assert "Other &lt;b&gt;case&lt;/b&gt;" in text
        assert site.off_machine_references(text) == []
    assert not re.search(r'class="[^"]*(jp-InputArea-editor|jp-InputPrompt)', page) and "results.record" not in page
    assert "Section one" in page and 'href="#Section-one"' in page  # table of contents
    assert "Data vintage" in page and "Parameters this page ran with" in page
    assert 'href="other/01_quick.html"' in index and 'href="other/01_quick.ipynb"' in index


def test_unknown_names_and_bad_jobs_are_refused_before_running(tiny):
    with pytest.raises(ParameterError, match="unknown scenario 'nope'; choose from: base, other"):
        _run(tiny, scenarios=["nope"])
    with pytest.raises(ParameterError, match="unknown notebook 'nope'"):
        _run(tiny, notebooks=["nope"])
    with pytest.raises(ParameterError, match="--jobs 0 is not allowed"):
        runner.run(jobs=0, progress=False)
    with pytest.raises(ParameterError, match="is not allowed"):
        _run(tiny, scenarios=["../etc"])


def test_second_run_is_refused_while_the_lock_is_held(tiny):
    _, _, outputs = tiny
    with runner.OutputsLock(outputs):
        with pytest.raises(runner.RunLockedError, match="another valuechain run"):
            _run(tiny)


def test_real_notebooks_publish_a_site_without_code(tmp_path):
    outcomes = runner.run(scenarios=["base", "bear"], outputs=tmp_path, progress=False, jobs=2)
    assert all(o.status == "ok" for o in outcomes), [o.error for o in outcomes]
    index = site.publish(tmp_path, rerender=False).read_text()
    assert 'id="comparison"' in index and "Chips share of profit" in index
    for page in tmp_path.glob("*/*.html"):
        text = page.read_text()
        assert site.off_machine_references(text) == []
        assert "import valuechain" not in text
        images = re.findall(r"<img\b[^>]*>", text)
        assert len([i for i in images if 'src="data:image/png;base64,' in i]) >= (3 if page.stem < "03" else 1)
        assert re.search(r'alt="[^"]{40,}"', text)
    figures = json.loads((tmp_path / "base" / "metrics.json").read_text())
    assert set(figures) == {"01_profit_capture", "02_demand_gap", "03_lab_economics", "04_valuations"}
