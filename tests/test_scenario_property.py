"""Property: any scenario document either validates or is refused with exactly one ParameterError line.

Documents are made by mutating the shipped base scenario: a random key path is replaced, deleted or
given a new sibling, with values of every kind (NaN, infinities, huge and tiny numbers, booleans,
unicode, HTML, control characters, deep nesting). Each case goes through the same path as a user's
file (YAML text written to disk, then ``load_scenario``), in-process; a few of them also go through
the command line.
"""
import math
import subprocess
import sys

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from valuechain import paths
from valuechain.exceptions import ParameterError
from valuechain.dataset.load import load_dataset
from valuechain.scenario.load import load_scenario

BASE = yaml.safe_load((paths.PARAMS_DIR / "base.yaml").read_text())
DATASET = load_dataset()  # validated once; every mutant is checked against its companies and metrics

scalars = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e30, -1e30, 1e-300, 0, 0.5, 1, 2025, 10**400]),
    st.text(max_size=30),
    st.sampled_from(["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
                     "nvidia", "openai", "revenue", "2024Q1", "", "\n\r\x1b[31m\u2028", "Ünïcødé 株式会社 🚀",
                     "base", "../etc/passwd", "yes", ".inf"]),
)
values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=4),
    st.dictionaries(st.one_of(st.text(max_size=10), st.integers(2000, 2050), st.sampled_from(["chips", "openai"])),
                    inner, max_size=4)), max_leaves=12)


def _paths(doc, prefix=()):
    """Every key path in ``doc`` (mappings and list positions)."""
    yield prefix
    if isinstance(doc, dict):
        for key, value in doc.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _paths(value, (*prefix, i))


PATHS = [p for p in _paths(BASE) if p]


def _mutate(doc, path, action, value, new_key):
    import copy

    doc = copy.deepcopy(doc)
    parent = doc
    for part in path[:-1]:
        parent = parent[part]
    last = path[-1]
    if action == "replace":
        parent[last] = value
    elif action == "delete":
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[new_key] = value
    elif action == "nest":
        deep = value
        for _ in range(30):
            deep = {"x": deep}
        parent[last] = deep
    return doc


mutations = st.lists(st.tuples(st.sampled_from(PATHS), st.sampled_from(["replace", "delete", "add", "nest"]),
                                values, st.text(max_size=12)), min_size=1, max_size=3)


def _apply(doc, changes):
    for path, action, value, new_key in changes:
        try:
            doc = _mutate(doc, path, action, value, new_key)
        except (KeyError, IndexError, TypeError):
            pass  # an earlier change removed or replaced that path
    return doc


def _dump(doc) -> str:
    return yaml.dump(doc, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), allow_unicode=True, sort_keys=False)


def _check(folder, doc):
    path = folder / "mutant.yaml"
    path.write_text(_dump(doc), encoding="utf-8")
    try:
        load_scenario(str(path), dataset=DATASET)
    except ParameterError as exc:
        message = str(exc)
        assert message and "\n" not in message and "\r" not in message, message
        assert str(path) in message or "mutant" in message, message
        assert all("\n" not in p for p in exc.problems)
        return "refused"
    return "valid"


_SETTINGS = dict(derandomize=True, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@settings(max_examples=30, **_SETTINGS)
@given(changes=mutations)
def test_any_mutation_of_base_validates_or_is_refused_with_one_line(tmp_path, changes):
    _check(tmp_path, _apply(BASE, changes))  # any other exception fails the property


@pytest.mark.notebooks  # the slow layer: the same property on many more mutations
@settings(max_examples=1000, **_SETTINGS)
@given(changes=mutations)
def test_a_thousand_mutations_of_base_validate_or_are_refused_with_one_line(tmp_path, changes):
    _check(tmp_path, _apply(BASE, changes))


def test_the_unmutated_base_validates(tmp_path):
    assert _check(tmp_path, BASE) == "valid"


CLI_CASES = [
    [(("demand_gap", "sequoia", "run_rate_usd_bn"), "replace", math.inf, "")],
    [(("layers", "cloud", "pass_through"), "replace", True, "")],
    [(("valuation", "exit_multiple"), "replace", 1e30, "")],
    [(("title",), "replace", ["<script>alert(1)</script>", "second\nline"], "")],
    [(("projection",), "nest", {"deep": [1, {"x": math.nan}]}, "")],
    [(("attribution",), "add", {"margin": "high"}, "nvda\u2028x")],
]


def _cli_validate(path):
    """``valuechain validate path`` in this process: (exit code, stderr)."""
    from click.testing import CliRunner

    from valuechain.cli import main

    result = CliRunner().invoke(main, ["validate", str(path)])
    return result.exit_code, result.stderr


def _assert_one_line_per_problem(code, stderr):
    assert code == 2, stderr
    assert "Traceback" not in stderr
    lines = stderr.splitlines()
    assert lines and all(line.startswith("valuechain: error: ") and "mutant.yaml" in line for line in lines)


@pytest.mark.parametrize("changes", CLI_CASES)
def test_the_command_line_gives_one_line_and_exit_2(tmp_path, changes):
    path = tmp_path / "mutant.yaml"
    path.write_text(_dump(_apply(BASE, changes)), encoding="utf-8")
    _assert_one_line_per_problem(*_cli_validate(path))


def test_the_installed_command_gives_one_line_and_exit_2_in_its_own_process(tmp_path):
    path = tmp_path / "mutant.yaml"
    path.write_text(_dump(_apply(BASE, CLI_CASES[-1])), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "valuechain.cli", "validate", str(path)], capture_output=True, text=True)
    _assert_one_line_per_problem(proc.returncode, proc.stderr)
