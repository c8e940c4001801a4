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


@pytest.fixture
def folder(tmp_path):
    params = tmp_path / "params"
    params.mkdir()
    (params / "base.yaml").write_text((paths.PARAMS_DIR / "base.yaml").read_text())
    return params


def test_a_variant_carries_a_rationale_saying_it_was_set_on_the_command_line(folder):
    name = variants.write_variant("base", {"valuation.discount_rate": 0.3, "layers.cloud.pass_through": 0.5}, folder)
    sc = load_scenario(name, params_dir=folder)  # validates: each changed block has a rationale of its own
    assert sc.valuation.rationale == "Set on the command line ('valuechain run base --set'): valuation.discount_rate = 0.3."
    assert sc.layers["cloud"].rationale == ("Set on the command line ('valuechain run base --set'): "
                                            "layers.cloud.pass_through = 0.5.")


def test_a_variant_can_be_named_and_explained(folder):
    name = variants.write_variant("base", {"valuation.discount_rate": 0.3}, folder, name="dr30", why=" A riskier build-out. ")
    assert name == "dr30" and (folder / VARIANTS / "dr30.yaml").is_file() and "dr30" in list_scenarios(folder)
    sc = load_scenario("dr30", params_dir=folder)
    assert (sc.valuation.discount_rate, sc.valuation.rationale) == (0.3, "A riskier build-out.")
    variants.write_variant("base", {"valuation.discount_rate": 0.25}, folder, name="dr30")  # the same name: replaced
    assert load_scenario("dr30", params_dir=folder).valuation.discount_rate == 0.25


@pytest.mark.parametrize("kwargs, expected", [
    ({"name": "base"}, "--name base: params/base.yaml is a scenario of that name; choose another name for the variant"),
    ({"name": "My Case"}, "scenario name 'My Case' is not allowed; use lower-case letters, digits, '-' and '_', "
                          "starting with a letter or digit"),
    ({"why": "  "}, "--why is empty; say in a few words why the value differs, or leave --why out"),
])
def test_a_variant_name_or_rationale_that_cannot_be_used_is_refused(folder, kwargs, expected):
    with pytest.raises(ParameterError) as info:
        variants.write_variant("base", {"valuation.discount_rate": 0.3}, folder, **kwargs)
    assert str(info.value) == expected and not (folder / VARIANTS).exists()


@pytest.mark.parametrize("key, value, reason", [
    ("demand_gap.regression.elasticity_prior_mean", 2.0, "the regressions estimate the elasticity without a prior"),
    ("demand_gap.capital.shown_separately", [], "no page shows these spenders apart"),
])
def test_a_set_key_no_notebook_reads_is_refused_before_anything_is_written(folder, key, value, reason):
    with pytest.raises(ParameterError) as info:
        variants.write_variant("base", {key: value}, folder)
    assert str(info.value) == f"--set {key}: no notebook reads this value ({reason}), so the run would change nothing; leave it out"
    assert not (folder / VARIANTS).exists()


def test_a_value_of_a_company_no_layer_lists_or_of_an_unused_period_is_unread():
    sc = load_scenario("base")
    assert variants.unread(sc, "valuation.discount_rate") is None
    assert variants.unread(sc, "years.ttm_end") is None  # base's headline is the twelve months to ttm_end
    calendar = load_scenario("base", {"years.latest": "calendar_year"})
    assert variants.unread(calendar, "years.ttm_end") == "years.latest is calendar_year; set years.latest=ttm too"
    unlisted = load_scenario("base", {"layers.cloud.companies": ["microsoft", "alphabet", "amazon"]})
    assert variants.unread(unlisted, "attribution.coreweave.margin") == "no layer lists coreweave; add it to a layer's companies first"


def test_the_list_of_unread_values_is_right():
    """A field named in UNREAD is read nowhere outside the scenario package; every other field is read somewhere."""
    import re

    from pydantic import BaseModel

    from valuechain.scenario import schema

    code = "".join(p.read_text() for p in paths.PACKAGE_DIR.rglob("*.py") if "scenario" not in p.parts)
    code += "".join(p.read_text() for p in paths.NOTEBOOKS_DIR.glob("*.ipynb"))
    models = [m for m in vars(schema).values() if isinstance(m, type) and issubclass(m, BaseModel)
              and m.__module__ == schema.__name__]
    fields = {name for model in models for name in model.model_fields}
    read = {name for name in fields if re.search(rf"\b{name}\b", code)}
    assert fields - read == {key.rsplit(".", 1)[-1] for key in schema.UNREAD}


def test_cli_refuses_an_unread_set_key_and_a_name_without_set_with_one_line(tmp_path):
    proc = invoke_cli("run", "base", "--set", "demand_gap.regression.elasticity_prior_sd=1", "--outputs", tmp_path)
    assert proc.returncode == 2 and proc.stderr == (
        "valuechain: error: --set demand_gap.regression.elasticity_prior_sd: no notebook reads this value (the regressions "
        "estimate the elasticity without a prior), so the run would change nothing; leave it out\n")
    proc = invoke_cli("run", "base", "--name", "mine", "--outputs", tmp_path)
    assert proc.returncode == 2 and proc.stderr == ("valuechain: error: --name and --why name and explain a variant made "
                                                    "with --set; add --set KEY=VALUE (see 'valuechain run --help')\n")
