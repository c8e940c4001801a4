"""Overrides without editing YAML: dotted keys from --set and from a notebook's `overrides` parameter."""
import json

import pytest

from conftest import invoke_cli
from valuechain import paths
from valuechain.scenario import variants
from valuechain.scenario.load import load_scenario
from valuechain.scenario.names import VARIANTS, list_scenarios
from valuechain.exceptions import ParameterError

NB04 = paths.NOTEBOOKS_DIR / "04_valuations.ipynb"


def test_dotted_overrides_change_the_value_and_say_so():
    sc = load_scenario("base", {"valuation.discount_rate": 0.3, "attribution.microsoft.ai_share.2025": 0.2,
                                "demand_gap.capital.ai_share.2026": 0.8})
    assert sc.valuation.discount_rate == 0.3
    assert sc.attribution["microsoft"].ai_share == {2023: 0.03, 2024: 0.06, 2025: 0.2}
    assert sc.demand_gap.capital.ai_share[2026] == 0.8  # a new year in a mapping by year
    assert sc.title.endswith("(variant)") and "valuation.discount_rate = 0.3" in sc.description


@pytest.mark.parametrize("overrides,message", [
    ({"valuation.discount_rat": 0.3}, "did you mean 'valuation.discount_rate'?"),
    ({"discount_rate": 0.3}, "did you mean 'valuation.discount_rate'?"),
    ({"valuation.discount_rate": 3}, "less than or equal to 1"),
    ({"valuation.discount_rate": "high"}, "valuation.discount_rate"),
])
def test_bad_overrides_get_one_line(overrides, message):
    with pytest.raises(ParameterError) as err:
        load_scenario("base", overrides)
    assert message in str(err.value) and "\n" not in str(err.value)


def test_parse_assignments_reads_values_as_yaml():
    assert variants.parse_assignments(["a.b=0.12", "c=[1, 2]", "d=null"]) == {"a.b": 0.12, "c": [1, 2], "d": None}
    with pytest.raises(ParameterError, match="not key=value"):
        variants.parse_assignments(["a.b"])


def test_variant_file_extends_base_with_a_name_from_its_overrides(tmp_path):
    folder = tmp_path / "params"
    folder.mkdir()
    (folder / "base.yaml").write_text((paths.PARAMS_DIR / "base.yaml").read_text())
    name = variants.write_variant("base", {"valuation.discount_rate": 0.3}, folder)
    assert name == variants.variant_name("base", {"valuation.discount_rate": 0.3}) and name.startswith("base-set-")
    assert name in list_scenarios(folder)
    assert load_scenario(name, params_dir=folder).valuation.discount_rate == 0.3
    assert variants.variant_name("base", {"valuation.discount_rate": 0.31}) != name


def test_cli_set_refuses_an_unknown_key_with_one_line(tmp_path):
    proc = invoke_cli("run", "base", "--set", "valuation.discount_rat=0.3", "--outputs", tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "did you mean 'valuation.discount_rate'?" in proc.stderr
    assert not (paths.PARAMS_DIR / VARIANTS).exists() or not any((paths.PARAMS_DIR / VARIANTS).glob("*rat*"))


@pytest.mark.notebooks
def test_papermill_overrides_change_the_figure_and_a_stray_parameter_fails(tmp_path):
    import papermill as pm  # here: a slow-layer test, and papermill takes two seconds to import

    def run(**kwargs):
        metrics = tmp_path / "m.json"
        pm.execute_notebook(str(NB04), str(tmp_path / "out.ipynb"),
                            parameters={"scenario": "base", "metrics_path": str(metrics), **kwargs},
                            cwd=str(paths.NOTEBOOKS_DIR), progress_bar=False, kernel_name="python3")
        return json.loads(metrics.read_text())

    assert run()["labs_revenue_needed_usd_bn"] == pytest.approx(349.8, abs=0.01)
    assert run(overrides={"valuation.discount_rate": 0.3})["labs_revenue_needed_usd_bn"] == pytest.approx(571.22, abs=0.01)
    with pytest.raises(pm.PapermillExecutionError, match="parameter 'discount_rate' is not a parameter of this notebook"):
        run(discount_rate=0.3)
