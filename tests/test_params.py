import shutil

import pytest
from pydantic import ValidationError

from valuechain import config
from valuechain.exceptions import ParameterError
from valuechain.params import list_scenarios, load_scenario


@pytest.fixture
def params_dir(tmp_path):
    folder = tmp_path / "params"
    folder.mkdir()
    shutil.copy(config.PARAMS_DIR / "base.yaml", folder / "base.yaml")
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
    assert bull.attribution == base.attribution
    assert bull.layers == base.layers


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
