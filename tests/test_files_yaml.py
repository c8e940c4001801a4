"""Bounded YAML reading (valuechain.files.safe_load, read_yaml) and how a scenario file or a --set
value that breaks a bound is refused: one line naming the file or key, exit code 2, quickly."""
import os
import shutil
import time

import pytest

from conftest import invoke_cli
from valuechain import files, paths
from valuechain.exceptions import ParameterError
from valuechain.files import YamlInputError, safe_load
from valuechain.scenario.load import load_scenario
from valuechain.scenario.variants import parse_assignments


def alias_bomb(levels: int = 9) -> str:
    """The classic "billion laughs": 9 aliases of 9 aliases ..., 9**9 values once expanded."""
    lines = ["extends: base", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    previous = "a"
    for name in "bcdefghijk"[:levels - 1]:
        lines.append(f"{name}: &{name} [" + ",".join([f"*{previous}"] * 9) + "]")
        previous = name
    return "\n".join(lines) + f"\ntitle: *{previous}\n"


# ----------------------------------------------------------------------------- the bounds


def test_alias_bomb_refused_in_milliseconds():
    text = alias_bomb()
    assert len(text) < 600
    start = time.perf_counter()
    with pytest.raises(YamlInputError, match="holds more than 200,000 values once its aliases are expanded"):
        safe_load(text)
    assert time.perf_counter() - start < 0.5


def test_too_many_plain_values_refused():
    with pytest.raises(YamlInputError, match="holds more than 200,000 values"):
        safe_load("[" + "1," * 200_001 + "1]")


def test_aliases_within_bounds_still_work():
    assert safe_load("x: &a [1, 2]\ny: *a\n") == {"x": [1, 2], "y": [1, 2]}


@pytest.mark.parametrize("text", ["a: &x [1, *x]", "a: &x {b: *x}"])
def test_recursive_alias_refused(text):
    with pytest.raises(YamlInputError, match=r"alias \*x refers to a value that contains it"):
        safe_load(text)


def test_deep_nesting_refused_with_its_line():
    with pytest.raises(YamlInputError, match="more than 40 deep") as info:
        safe_load("ok: 1\na: " + "[" * 400 + "]" * 400)
    assert info.value.line == 2


def test_nesting_at_the_bound_is_read():
    assert safe_load("[" * 40 + "]" * 40) is not None


def test_long_integer_refused_but_quoted_digits_are_text():
    with pytest.raises(YamlInputError, match="integer of 5,000 digits"):
        safe_load("seed: " + "9" * 5000)
    assert safe_load("note: '" + "9" * 5000 + "'")["note"] == "9" * 5000


def test_impossible_date_is_one_line():
    with pytest.raises(YamlInputError, match="cannot build"):
        safe_load("date: 2025-02-30")


@pytest.mark.parametrize("text, key", [("title: a\ntitle: b\n", "title"),
                                       ("years: {start: 2020, end: 2025, start: 2021}", "start")])
def test_duplicate_key_refused_naming_it(text, key):
    with pytest.raises(YamlInputError, match=f"repeats the key '{key}'"):
        safe_load(text)


def test_same_key_in_different_mappings_is_fine():
    assert safe_load("a: {x: 1}\nb: {x: 2}\n") == {"a": {"x": 1}, "b": {"x": 2}}


def test_oversized_text_refused(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_text("a: " + "x" * (files.YAML_MAX_BYTES + 10))
    with pytest.raises(YamlInputError, match="more than the 1,000,000"):
        files.read_yaml(big)
    with pytest.raises(YamlInputError, match="more than the 1,000,000"):
        safe_load(big.read_text())


def test_non_utf8_file_refused_with_its_line(tmp_path):
    path = tmp_path / "latin.yaml"
    path.write_bytes(b"title: ok\ndescription: caf\xe9\n")
    with pytest.raises(YamlInputError, match="not UTF-8 text") as info:
        files.read_yaml(path)
    assert info.value.line == 2


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_device_and_pipe_refused_without_reading(tmp_path):
    with pytest.raises(YamlInputError, match="not a regular file"):
        files.read_yaml("/dev/zero")
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    start = time.perf_counter()
    with pytest.raises(YamlInputError, match="not a regular file"):
        files.read_yaml(fifo)
    assert time.perf_counter() - start < 1


# ----------------------------------------------------------------------------- scenario files and --set


@pytest.fixture
def params(tmp_path):
    folder = tmp_path / "params"
    folder.mkdir()
    shutil.copy(paths.PARAMS_DIR / "base.yaml", folder / "base.yaml")
    return folder


@pytest.mark.parametrize("content, expected", [
    (alias_bomb(), "values once its aliases are expanded"),
    ("extends: base\ntitle: " + "[" * 400 + "]" * 400, "more than 40 deep"),
    (b"extends: base\ntitle: \xff\xfe\n", "not UTF-8 text"),
    ("extends: base\nuncertainty: {seed: " + "9" * 5000 + "}\n", "integer of 5,000 digits"),
    ("extends: base\ntitle: a\ntitle: b\n", "repeats the key 'title'"),
])
def test_scenario_file_refused_in_one_line(params, content, expected):
    path = params / "bad.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    start = time.perf_counter()
    proc = invoke_cli("validate", path)
    assert time.perf_counter() - start < 5
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"valuechain: error: {path}: ") and expected in proc.stderr


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
@pytest.mark.parametrize("target", ["/dev/zero", "/etc/passwd"])
def test_link_leaving_params_refused_without_showing_the_target(params, target):
    (params / "x.yaml").symlink_to(target)
    with pytest.raises(ParameterError, match="is a link to a file outside") as info:
        load_scenario("x", params_dir=params)
    assert ":x:0:0" not in str(info.value) and "/bin/" not in str(info.value) and len(info.value.problems) == 1


def test_link_inside_params_still_works(params):
    (params / "alias.yaml").symlink_to(params / "base.yaml")
    assert load_scenario("alias", params_dir=params).title == load_scenario("base", params_dir=params).title


def test_extends_through_a_link_leaving_params_refused(params, tmp_path):
    outside = tmp_path / "elsewhere.yaml"
    outside.write_text("title: from outside\n")
    (params / "parent.yaml").symlink_to(outside)
    (params / "child.yaml").write_text("extends: parent\n")
    with pytest.raises(ParameterError, match="parent.yaml: is a link to a file outside"):
        load_scenario("child", params_dir=params)


def test_set_key_given_twice_refused():
    with pytest.raises(ParameterError, match="--set valuation.discount_rate is given twice"):
        parse_assignments(["valuation.discount_rate=0.1", "valuation.discount_rate=0.2"])


def test_set_recursive_alias_is_one_line():
    proc = invoke_cli("run", "base", "--set", "valuation.discount_rate=&a [*a]", "--outputs", "/nonexistent/never")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "--set valuation.discount_rate: the value '&a [*a]'" in proc.stderr and "refers to a value that contains it" in proc.stderr
