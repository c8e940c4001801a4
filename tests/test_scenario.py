import shutil

import pytest
from pydantic import ValidationError

from valuechain import paths
from valuechain.exceptions import ParameterError
from valuechain.scenario.load import load_scenario
from valuechain.scenario.names import list_scenarios


@pytest.fixture
def params_dir(tmp_path):
    folder = tmp_path / "params"
    folder.mkdir()
    shutil.copy(paths.PARAMS_DIR / "base.yaml", folder / "base.yaml")
    return folder


def _write(folder, name, text):
    path = folder / f"{name}.yaml"
    path.write_text(text)
    return path


def test_shipped_scenarios_load():
    names = list_scenarios()
    assert {"base", "bull", "bear"} <= set(names)
    for name in names:
        sc = load_scenario(name)
        assert sc.name == name and sc.title and sc.description


def test_extends_overrides_only_what_differs():
    base, bull = load_scenario("base"), load_scenario("bull")
    assert bull.projection.capex_growth != base.projection.capex_growth
    assert bull.layers == base.layers
    assert bull.attribution["nvidia"] == base.attribution["nvidia"]  # untouched entries are inherited


def test_bull_and_bear_differ_in_history_and_priors_not_only_projection():
    base, bull, bear = (load_scenario(n) for n in ("base", "bull", "bear"))
    key = "attribution.microsoft.ai_share.2025"
    shares = [sc.attribution["microsoft"].ai_share[2025] for sc in (bear, base, bull)]
    assert shares == sorted(shares) and len(set(shares)) == 3
    modes = [sc.uncertainty.priors[key].mode for sc in (bear, base, bull)]
    assert modes == shares  # each prior is centred on its scenario's value
    assert bull.uncertainty.priors["valuation.discount_rate"] == base.uncertainty.priors["valuation.discount_rate"]


def test_scenario_is_frozen():
    sc = load_scenario("base")
    with pytest.raises(ValidationError, match="frozen"):
        sc.years.start = 2000


def test_resolved_parameters_are_plain_data():
    resolved = load_scenario("bear").resolved()
    assert resolved["name"] == "bear" and resolved["projection"]["final_margins"]["chips"] == 0.35


def test_overrides_apply(params_dir):
    growth = {year: 0.1 for year in range(2025, 2031)}
    sc = load_scenario("base", {"years": {"end": 2024}, "projection": {"start": 2025, "capex_growth": growth,
                                                                      "end_user_growth": growth}}, params_dir=params_dir)
    assert sc.years.end == 2024 and sc.projection.growth("capex_growth", 2025) == 0.1


@pytest.mark.parametrize(
    "text, expected",
    [
        ("extends: base\nyaers: {start: 2023}\n", r"child.yaml: unknown key 'yaers'; did you mean 'years'\?"),
        ("extends: base\nprojection: {capex_grwth: 0.1}\n", r"unknown key 'projection.capex_grwth'; did you mean 'capex_growth'\?"),
        ("extends: base\nyears: {start: soon}\n", r"key 'years.start': .*integer"),
        ("extends: base\nlayers: {apps: {pass_through: 1.5}}\n", r"key 'layers.apps.pass_through': .*less than or equal to 1"),
        ("extends: base\nattribution: {amazon: {ai_share: -0.1}}\n", r"key 'attribution.amazon.ai_share"),
        ("extends: base\nprojection: {capex_allocation: {chips: 0.5, servers: 0.2, other: 0.2}}\n",
         r"key 'projection': capex_allocation shares sum to 0.9, not 1"),
        ("extends: base\nlayers: {chips: {companies: [nvidia, nvda]}}\n",
         r"child.yaml: layers.chips.companies names 'nvda', which has no attribution entry"),
        ("extends: base\nattribution: {nvda: {revenue_metric: revenue}}\nlayers: {chips: {companies: [nvda]}}\n",
         r"key 'layers.chips.companies\[0\]': unknown company 'nvda'; did you mean 'nvidia'\?"),
        ("extends: base\nattribution: {nvidia: {revenue_metric: dc_revenue}}\n",
         r"key 'attribution.nvidia.revenue_metric': unknown metric 'dc_revenue'"),
        ("extends: base\nattribution: {amazon: {ai_share: 0.5, rationale: ''}}\n", r"needs a rationale"),
        ("extends: base\nyears: {start: 2026, end: 2025}\n", r"key 'years': start 2026 is after end 2025"),
        ("extends: base\nyears: {latest: twelve_months}\n", r"key 'years.latest': Input should be 'calendar_year' or 'ttm'"),
        ("extends: base\nyears: {latest: ttm, ttm_end: 2026Q5}\n", r"key 'years.ttm_end': String should match pattern"),
        ("extends: base\ndemand_gap: {downstream: {level_sd: estimated}}\n",
         r"key 'demand_gap.downstream.level_sd': write estimate \(from the disclosures\) or a fixed number in \(0, 0.5\]"),
        ("extends: base\ndemand_gap: {downstream: {slope_sd: 0.9}}\n",
         r"key 'demand_gap.downstream.slope_sd': write estimate .* \(got '0.9'\)"),
        ("extends: missing\n", r"key 'extends' names 'missing', which does not exist"),
        ("", r"child.yaml: the file is empty"),
        ("title: [unclosed\n", r"child.yaml: YAML syntax error at line 2"),
        ("- a\n- b\n", r"expected a mapping"),
    ],
)
def test_bad_parameters_are_refused_with_file_and_key(params_dir, text, expected):
    _write(params_dir, "child", text)
    with pytest.raises(ParameterError, match=expected) as info:
        load_scenario("child", params_dir=params_dir)
    assert "\n" not in str(info.value)


def test_extends_cycle_is_refused(params_dir):
    _write(params_dir, "a", "extends: b\n")
    _write(params_dir, "b", "extends: a\n")
    with pytest.raises(ParameterError, match=r"a.yaml: key 'extends' forms a cycle \(a -> b -> a\)"):
        load_scenario("a", params_dir=params_dir)


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "my scenario", "Base", "a;rm", "-x", ""])
def test_unsafe_scenario_names_are_refused(name):
    with pytest.raises(ParameterError, match="is not allowed"):
        load_scenario(name)


def test_injected_code_stays_a_string(params_dir):
    _write(params_dir, "child", "extends: base\ntitle: \"__import__('os').system('x')\"\n")
    assert load_scenario("child", params_dir=params_dir).title == "__import__('os').system('x')"


def test_yaml_tags_are_not_executed(params_dir):
    _write(params_dir, "child", "extends: base\ntitle: !!python/object/apply:os.system ['echo hi']\n")
    with pytest.raises(ParameterError, match="YAML syntax error"):
        load_scenario("child", params_dir=params_dir)


@pytest.mark.parametrize("text, expected", [
    ("extends: base\ndemand_gap: {sequoia: {run_rate_usd_bn: .inf}}\n",
     r"key 'demand_gap.sequoia.run_rate_usd_bn': Input should be a finite number"),
    ("extends: base\ndemand_gap: {break_even: {target_return: .nan}}\n",
     r"key 'demand_gap.break_even.target_return': Input should be a finite number"),
    ("extends: base\ndemand_gap: {sequoia: {run_rate_usd_bn: 1e30}}\n",
     r"key 'demand_gap.sequoia.run_rate_usd_bn': Input should be less than or equal to 100000 \(USD billions\)"),
    ("extends: base\nlab_economics: {paths: {openai: {base_revenue_usd_bn: 1.0e+30}}}\n",
     r"key 'lab_economics.paths.openai.base_revenue_usd_bn': Input should be less than or equal to 100000"),
    ("extends: base\nlayers: {cloud: {pass_through: true}}\n",
     r"key 'layers.cloud.pass_through': a true/false value is not allowed here; write a number"),
    ("extends: base\nattribution: {amazon: {ai_share: {2024: yes}}}\n",
     r"key 'attribution.amazon.ai_share': a true/false value is not allowed here"),
    ("extends: base\nvaluation: {float_ratios: [0.1, false]}\n", r"key 'valuation.float_ratios': a true/false value"),
    ("extends: base\nyears: {start: true}\n", r"key 'years.start': a true/false value"),
    ("extends: base\nlayers: {apps: {pass_through: 1.5}}\n", r"less than or equal to 1 \(a share, 0-1\)"),
])
def test_numbers_are_finite_bounded_and_never_booleans(params_dir, text, expected):
    _write(params_dir, "child", text)
    with pytest.raises(ParameterError, match=expected) as info:
        load_scenario("child", params_dir=params_dir)
    assert "\n" not in str(info.value)


def test_every_problem_of_a_file_is_collected(params_dir):
    _write(params_dir, "child", "extends: base\nyears: {start: soon}\nlayers: {apps: {pass_through: 1.5}}\n"
                                "valuation: {exit_multiple: .inf}\n")
    with pytest.raises(ParameterError, match=r"key 'years.start'.*\(\+2 more\)") as info:
        load_scenario("child", params_dir=params_dir)
    assert [p.split(": key ")[1].split(":")[0] for p in info.value.problems] == [
        "'years.start'", "'layers.apps.pass_through'", "'valuation.exit_multiple'"]
    assert all("child.yaml" in p and "\n" not in p for p in info.value.problems)


def test_every_unknown_company_is_collected(params_dir):
    _write(params_dir, "child", "extends: base\ndemand_gap: {regression: {capex_companies: [msft, goog]}}\n")
    with pytest.raises(ParameterError) as info:
        load_scenario("child", params_dir=params_dir)
    assert len(info.value.problems) == 2 and "'msft'" in info.value.problems[0] and "'goog'" in info.value.problems[1]


def test_user_text_cannot_break_the_one_line(params_dir):
    _write(params_dir, "child", 'extends: base\nlayers: {chips: {companies: [nvidia, "evil\\nsecond line\\u001b[31m"]}}\n')
    with pytest.raises(ParameterError) as info:
        load_scenario("child", params_dir=params_dir)
    message = str(info.value)
    assert "\n" not in message and "\x1b" not in message and "evil\\nsecond line\\x1b[31m" in message


def test_a_file_outside_params_extends_base_from_params(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "notes.yaml").write_text("unrelated: true\n")
    _write(elsewhere, "mine", "extends: base\ntitle: Mine\n")
    sc = load_scenario(str(elsewhere / "mine.yaml"))
    assert sc.title == "Mine" and sc.layers == load_scenario("base").layers


def test_a_file_outside_params_prefers_a_parent_beside_it(tmp_path):
    _write(tmp_path, "base", (paths.PARAMS_DIR / "base.yaml").read_text().replace("title: Base case", "title: Local base"))
    _write(tmp_path, "mine", "extends: base\n")
    assert load_scenario(str(tmp_path / "mine.yaml")).title == "Local base"


def test_a_missing_parent_names_where_it_looked(tmp_path):
    _write(tmp_path, "mine", "extends: nowhere\n")
    with pytest.raises(ParameterError) as info:
        load_scenario(str(tmp_path / "mine.yaml"))
    message = str(info.value)
    assert f"looked for nowhere.yaml in {tmp_path.resolve()} and {paths.PARAMS_DIR.resolve()}" in message
    assert "use one of:" in message and "base" in message


def test_companies_and_metrics_are_checked_against_the_dataset_given():
    """A scenario run on another dataset is checked against that dataset's companies and metrics, not the bundled ones."""
    import dataclasses

    from valuechain.dataset.load import load_dataset

    ds = load_dataset()
    assert load_scenario("base", dataset=ds).layers["chips"].companies[0] == "nvidia"
    without = dataclasses.replace(ds, companies=ds.companies[ds.companies["company_id"] != "nvidia"],
                                  metrics={k: v for k, v in ds.metrics.items() if k != "ai_semiconductor_revenue"})
    with pytest.raises(ParameterError) as info:
        load_scenario("base", dataset=without)
    assert "key 'layers.chips.companies[0]': unknown company 'nvidia'" in str(info.value)
    assert any("key 'attribution.broadcom.revenue_metric': unknown metric 'ai_semiconductor_revenue'" in p for p in info.value.problems)


def test_the_bundled_reference_names_are_the_loaded_datasets(ds, data_copy):
    """Scenarios are checked against the bundled companies and metrics read from their two files alone;
    those names are exactly the validated dataset's, and a file that cannot be read leaves it to the loader."""
    from valuechain.dataset.names import reference_names

    ids, metrics = reference_names()
    assert ids == set(ds.companies["company_id"]) and metrics == set(ds.metrics)
    (data_copy / "metrics.yaml").write_text("- not a mapping\n")
    assert reference_names(data_copy) is None
    (data_copy / "companies.csv").unlink()
    assert reference_names(data_copy) is None


def test_listing_scenarios_loads_neither_pandas_nor_the_dataset():
    import subprocess
    import sys

    code = ("import sys\nfrom valuechain.cli import main\ntry:\n    main(['list'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('pandas', 'pandera') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=paths.REPO_ROOT)
    assert out.returncode == 0, out.stderr
    assert "Base case" in out.stdout and out.stdout.rstrip().endswith("[]")


# ----------------------------------------------------------------------------- priors within their fields' bounds

def _prior(key, spec):
    return f"extends: base\nuncertainty:\n  priors:\n    {key}: {{{spec}, rationale: test}}\n"


@pytest.mark.parametrize("key, spec, expected", [
    ("valuation.discount_rate", "dist: uniform, low: -50, high: 50",
     "uncertainty.priors.valuation.discount_rate ranges over -50 to 50, outside the 0 to 1"),
    ("valuation.discount_rate", "dist: normal, mean: 0.15, sd: 1.0e308", "is not finite"),
    ("valuation.exit_multiple", "dist: lognormal, median: 1.0e300, sigma: 0.3", "outside the 0 to 100"),
    ("valuation.exit_multiple", "dist: lognormal, median: 10, sigma: 1.0e300", "outside the 0 to 100"),
    ("demand_gap.capital.servers_life_years", "dist: triangular, low: 1, mode: 5, high: 6", "outside the 3 to 8"),
    ("attribution.microsoft.ai_share.2025", "dist: normal, mean: 0.5, sd: 0.2", "ranges over -0.7 to 1.7"),
    ("projection.capex_growth.2027", "dist: uniform, low: -1.0e308, high: 1.0e308", "is not finite"),
])
def test_priors_outside_their_fields_bounds_are_refused(params_dir, key, spec, expected):
    _write(params_dir, "wide", _prior(key, spec))
    with pytest.raises(ParameterError, match=expected.replace("+", "\\+").replace(".", "\\.")) as info:
        load_scenario("wide", params_dir=params_dir)
    assert "wide.yaml" in str(info.value)


@pytest.mark.parametrize("key, spec", [
    ("valuation.discount_rate", "dist: uniform, low: 0, high: 1"),  # the field's bounds themselves
    ("attribution.microsoft.ai_share.2025", "dist: normal, mean: 0.5, sd: 0.2, low: 0, high: 1"),  # truncated within
    ("valuation.exit_multiple", "dist: lognormal, median: 10, sigma: 0.3"),  # 10 x e^(+-1.8): 1.7 to 60
])
def test_priors_within_their_fields_bounds_are_accepted(params_dir, key, spec):
    _write(params_dir, "fine", _prior(key, spec))
    assert load_scenario("fine", params_dir=params_dir).uncertainty.priors[key].dist == spec.split(",")[0].split()[-1]


def test_field_bounds_reads_the_schema():
    from valuechain.scenario.schema import field_bounds

    assert field_bounds("valuation.discount_rate") == (0.0, 1.0)
    assert field_bounds("attribution.microsoft.ai_share.2025") == (0.0, 1.0)
    assert field_bounds("projection.capex_growth.2027") == (-0.9, 5.0)
    assert field_bounds("lab_economics.paths.openai.base_revenue_usd_bn") == (0.0, 100_000.0)


def test_a_priors_parts_are_not_override_keys():
    from valuechain.scenario.load import settable_keys

    keys = settable_keys(load_scenario("base"))
    assert "valuation.discount_rate" in keys and "uncertainty.draws" in keys
    assert not [k for k in keys if k.startswith("uncertainty.priors.")]
    with pytest.raises(ParameterError, match="a prior cannot be set by a dotted key"):
        load_scenario("base", {"uncertainty.priors.valuation.discount_rate.rationale": "x"})


def test_draws_in_a_file_share_the_sweeps_cap(params_dir):
    from valuechain.scenario.schema import MAX_DRAWS

    _write(params_dir, "many", f"extends: base\nuncertainty: {{draws: {MAX_DRAWS + 1}}}\n")
    with pytest.raises(ParameterError, match="uncertainty.draws"):
        load_scenario("many", params_dir=params_dir)


def test_the_smoother_s_noise_levels_are_estimated_unless_a_number_fixes_them(params_dir):
    assert load_scenario("base", params_dir=params_dir).demand_gap.downstream.level_sd == "estimate"
    assert load_scenario("base", params_dir=params_dir).demand_gap.downstream.slope_sd == "estimate"
    fixed = load_scenario("base", {"demand_gap": {"downstream": {"level_sd": 0.05}}}, params_dir=params_dir)
    assert fixed.demand_gap.downstream.level_sd == 0.05 and fixed.demand_gap.downstream.slope_sd == "estimate"


# A changed value needs a rationale of its own (valuechain.scenario.rationales).

def test_a_changed_value_keeping_bases_rationale_is_refused_in_one_line(params_dir):
    path = _write(params_dir, "child", "extends: base\nvaluation:\n  discount_rate: 0.2  # a comment is no rationale\n")
    with pytest.raises(ParameterError) as info:
        load_scenario("child", params_dir=params_dir)
    assert str(info.value) == (
        f"{path}: key 'valuation.discount_rate' changes base's value (0.15 -> 0.2) but 'valuation.rationale' is still "
        f"base's; write why as 'valuation.rationale' in this file (a YAML comment does not count: no page shows it)")


def test_a_changed_value_in_a_block_without_a_rationale_is_refused_naming_the_block(params_dir):
    path = _write(params_dir, "child", "extends: base\ndemand_gap: {downstream: {band: 0.8, start_quarter: 2023Q2}}\n")
    with pytest.raises(ParameterError) as info:
        load_scenario("child", params_dir=params_dir)
    assert str(info.value) == (
        f"{path}: key 'demand_gap.downstream.start_quarter' (and 1 more in its block) changes base's value (2023Q1 -> 2023Q2) "
        f"but its block has no rationale; write why as 'demand_gap.downstream.rationale' in this file "
        f"(a YAML comment does not count: no page shows it)")


def test_every_block_without_a_rationale_is_one_line_in_key_order(params_dir):
    _write(params_dir, "child", "extends: base\nvaluation: {discount_rate: 0.2}\nyears: {ttm_end: 2026Q1}\n")
    with pytest.raises(ParameterError) as info:
        load_scenario("child", params_dir=params_dir)
    assert [p.split(": key ")[1].split(" ")[0] for p in info.value.problems] == ["'years.ttm_end'", "'valuation.discount_rate'"]
    assert str(info.value).endswith("(+1 more)")


def test_a_rationale_of_its_own_is_accepted_and_an_unchanged_value_needs_none(params_dir):
    _write(params_dir, "child", "extends: base\nvaluation: {discount_rate: 0.2, rationale: Riskier.}\n"
                                "layers: {cloud: {pass_through: 0.5, rationale: Halved.}}\n"
                                "projection: {end_user_growth: {2026: 0.8}}\n")  # base's own value
    sc = load_scenario("child", params_dir=params_dir)
    assert (sc.valuation.discount_rate, sc.valuation.rationale, sc.layers["cloud"].rationale) == (0.2, "Riskier.", "Halved.")


def test_a_file_that_extends_nothing_is_compared_with_base(params_dir):
    text = (params_dir / "base.yaml").read_text().replace("discount_rate: 0.15", "discount_rate: 0.25")
    path = _write(params_dir, "copy", text)
    with pytest.raises(ParameterError, match=rf"^{path}: key 'valuation.discount_rate' changes base's value \(0.15 -> 0.25\)"):
        load_scenario("copy", params_dir=params_dir)
    _write(params_dir, "same", (params_dir / "base.yaml").read_text())
    assert load_scenario("same", params_dir=params_dir).valuation.discount_rate == 0.15


def test_a_scenario_is_compared_with_what_it_extends_not_with_base(params_dir):
    _write(params_dir, "child", "extends: base\nvaluation: {discount_rate: 0.2, rationale: Riskier.}\n")
    path = _write(params_dir, "grandchild", "extends: child\nvaluation: {exit_multiple: 9}\n")
    with pytest.raises(ParameterError, match=rf"^{path}: key 'valuation.exit_multiple' changes child's value \(10 -> 9\) "
                                             rf"but 'valuation.rationale' is still child's"):
        load_scenario("grandchild", params_dir=params_dir)
    _write(params_dir, "grandchild", "extends: child\nvaluation: {exit_multiple: 9, rationale: Lower multiples.}\n")
    assert load_scenario("grandchild", params_dir=params_dir).valuation.rationale == "Lower multiples."


def test_a_replaced_prior_needs_a_rationale_of_its_own(params_dir):
    key = "projection.end_user_growth.2028"
    path = _write(params_dir, "child", "extends: base\nuncertainty: {priors: {" + key + ": {dist: normal, mean: 0.3, "
                                       "sd: 0.2, low: 0.0, rationale: 'As 2027, one year further out.'}}}\n")
    with pytest.raises(ParameterError, match=rf"^{path}: key 'uncertainty.priors.{key}' changes base's value \(dist: normal, "
                                             rf"mean: 0.45, .* but 'uncertainty.priors.{key}.rationale' is still base's"):
        load_scenario("child", params_dir=params_dir)


def test_overrides_get_a_rationale_saying_so():
    sc = load_scenario("base", {"valuation.discount_rate": 0.3, "valuation.exit_multiple": 8})
    assert sc.valuation.rationale == "Set as an override of base: valuation.exit_multiple = 8; valuation.discount_rate = 0.3."
    assert load_scenario("base", {"valuation.rationale": "Mine."}).valuation.rationale == "Mine."


def test_every_changed_value_of_the_shipped_scenarios_shows_a_rationale_of_its_own():
    """The comparison table beside each page: no empty cell, and never base's reason beside another value."""
    from valuechain.publish import comparison

    base = load_scenario("base").resolved()
    for name in list_scenarios():
        rows = comparison.differences(base, load_scenario(name).resolved())
        for row in rows:
            path = tuple(row["key"].split("."))
            assert row["rationale"] and row["rationale"] != comparison.rationale(base, path), (name, row["key"])
    anchors = {name: load_scenario(name).demand_gap for name in ("sequoia_2023", "sequoia_2024", "bain_2030")}
    assert anchors["sequoia_2023"].sequoia.rationale.startswith("Sequoia's own figures of September 2023")
    assert anchors["bain_2030"].bain.rationale.startswith("Bain's own figures (Technology Report 2025)")
