import shlex
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import edit_csv, invoke_cli
from valuechain.cli import main


def test_help_lists_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "summary" in result.output and "report" in result.output


def test_summary_writes_coverage(tmp_path):
    out = tmp_path / "coverage.csv"
    result = CliRunner().invoke(main, ["summary", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "every row cites a source" in result.output
    assert out.read_text().startswith("layer,company_id,metric,period_type,first,last,rows,bases")


def test_bad_data_exits_2_with_one_line(data_copy, tmp_path):
    edit_csv(data_copy, "companies.csv", lambda f: f.assign(layer=f["layer"].replace("chips", "silicon")))
    out = tmp_path / "coverage.csv"
    out.write_text("previous good output\n")
    proc = invoke_cli("summary", "--data-dir", data_copy, "--out", out)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("valuechain: error: companies.csv row 2, column layer: rule 'known_layer'")
    assert out.read_text() == "previous good output\n"


def _params_with_bad_files(tmp_path):
    import shutil

    from valuechain import paths

    folder = tmp_path / "params"
    folder.mkdir()
    shutil.copy(paths.PARAMS_DIR / "base.yaml", folder / "base.yaml")
    (folder / "broken.yaml").write_text("extends: base\nyears: {start: soon}\nvaluation: {exit_multiple: .inf}\n")
    (folder / "worse.yaml").write_text("title: [unclosed\n")
    return folder


def test_validate_reports_every_problem_of_every_file(tmp_path):
    folder = _params_with_bad_files(tmp_path)
    files = [str(folder / name) for name in ("base.yaml", "broken.yaml", "worse.yaml")]
    proc = invoke_cli("validate", *files)
    assert proc.returncode == 2
    assert proc.stdout.startswith("ok  base: Base case")
    lines = proc.stderr.splitlines()
    assert len(lines) == 3 and all(line.startswith("valuechain: error: ") for line in lines)
    assert "broken.yaml: key 'years.start'" in lines[0] and "broken.yaml: key 'valuation.exit_multiple'" in lines[1]
    assert "worse.yaml: YAML syntax error" in lines[2]


def test_list_marks_invalid_scenarios_and_lists_the_rest(tmp_path, monkeypatch):
    from valuechain import paths

    monkeypatch.setattr(paths, "PARAMS_DIR", _params_with_bad_files(tmp_path))
    result = CliRunner().invoke(main, ["list"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["base", "Base", "case"]
    assert lines[1].startswith("broken") and "INVALID: " in lines[1] and "key 'years.start'" in lines[1]
    assert lines[2].startswith("worse") and "INVALID: " in lines[2] and "YAML syntax error" in lines[2]


def test_the_command_reads_notebooks_without_the_iri_grammar_and_still_validates_them():
    """The command never builds rfc3987_syntax's grammars (0.75 s); a notebook is still checked against its schema."""
    from importlib.machinery import PathFinder

    if PathFinder.find_spec("rfc3987_syntax") is None:  # on the path, whatever this process's sys.modules says
        pytest.skip("rfc3987_syntax is not installed here: there is nothing to leave out")
    code = ("import sys, valuechain.cli, nbformat, papermill\n"
            "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('x = 1')])\n"
            "nbformat.validate(nb)\n"
            "nb.cells[0]['outputs'] = 'not a list'\n"
            "try:\n    nbformat.validate(nb)\nexcept nbformat.ValidationError:\n    print('refused')\n"
            "print(sorted(m for m, mod in sys.modules.items() if m.startswith('rfc3987') and mod is not None))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split("\n")
    assert out[:2] == ["refused", "[]"]


def test_usage_errors_are_one_line_with_exit_2():
    for args in (["run", "--jobs", "abc"], ["run", "--no-such-option"], ["no-such-command"], ["run", "--timeout", "0"]):
        proc = invoke_cli(*args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("valuechain: error: "), (args, proc.stderr)


def test_the_installed_command_refuses_bad_usage_with_one_line():
    proc = subprocess.run([sys.executable, "-m", "valuechain.cli", "run", "--jobs", "abc"], capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("valuechain: error: Invalid value for '--jobs'"), proc.stderr


def _commands(group, path=("valuechain",)):
    """(path, command) of the group and of every command under it, groups included."""
    yield path, group
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*path, name))
        else:
            yield (*path, name), command


def _parse(args):
    """The context ``valuechain ARGS`` resolves to, with its options parsed and nothing run."""
    ctx = main.make_context("valuechain", list(args))
    while isinstance(ctx.command, click.Group) and [*ctx._protected_args, *ctx.args]:
        name, command, rest = ctx.command.resolve_command(ctx, [*ctx._protected_args, *ctx.args])
        ctx = command.make_context(name, rest, parent=ctx)
    return ctx


def test_every_commands_help_has_examples_that_parse():
    paths = [path for path, _ in _commands(main)]
    assert ("valuechain", "data", "refresh") in paths and ("valuechain", "report") in paths
    for path in paths:
        result = CliRunner().invoke(main, [*path[1:], "--help"], prog_name="valuechain")
        assert result.exit_code == 0, (path, result.output)
        assert result.output.startswith(f"Usage: {' '.join(path)} "), path
        tail = result.output.split("Example:\n" if "Example:\n" in result.output else "Examples:\n")
        assert len(tail) == 2, f"{' '.join(path)} --help has no example"
        examples = [line.split("#")[0].strip() for line in tail[1].split("\n\n")[0].splitlines()]
        assert examples and all(e.startswith(" ".join(path)) for e in examples), (path, examples)
        for example in examples:
            ctx = _parse(shlex.split(example)[1:])  # an unknown option or a bad value raises here
            assert ctx.command_path.startswith(" ".join(path)) and not isinstance(ctx.command, click.Group), example


def test_run_help_explains_extends_the_cache_and_where_outputs_go():
    text = " ".join(CliRunner().invoke(main, ["run", "--help"]).output.split())
    assert "'extends: base'" in text and "keys that differ" in text and "parameters.json" in text
    assert "inputs are unchanged" in text and "--force re-runs it" in text
    assert "Outputs go to outputs/" in text and ".ipynb (executed), .html (its page) and .json (key figures)" in text


def test_report_takes_the_options_of_run_and_verbose():
    ctx = _parse(["report", "--jobs", "3", "--force", "--outputs", "/tmp/vc", "-v"])
    assert ctx.params == {"jobs": 3, "force": True, "outputs": Path("/tmp/vc"), "verbose": True}
    assert _parse(["report"]).params == {"jobs": None, "force": False, "outputs": None, "verbose": False}


# ----------------------------------------------------------------------------- nothing drives the terminal

BIDI_AND_BELL = "Acme\u202egnp.exe\u2066x\u2069\x07\x1b[31m"


def test_one_line_escapes_controls_and_bidirectional_overrides():
    from valuechain.exceptions import one_line, terminal_text

    assert one_line(BIDI_AND_BELL) == "Acme\\u202egnp.exe\\u2066x\\u2069\\x07\\x1b[31m"
    assert terminal_text("a\x07\nb\u202e") == "a\\x07\nb\\u202e"


def test_titles_and_errors_from_a_scenario_file_reach_the_terminal_escaped(tmp_path):
    good = tmp_path / "shown.yaml"
    good.write_text(f'extends: base\ntitle: "{BIDI_AND_BELL}"\n'.replace("\x07", "\\a").replace("\x1b", "\\e"), encoding="utf-8")
    bad = tmp_path / "broken.yaml"
    bad.write_text(f'extends: base\n"{BIDI_AND_BELL}": 1\n'.replace("\x07", "\\a").replace("\x1b", "\\e"), encoding="utf-8")
    proc = invoke_cli("validate", good, bad)
    assert proc.returncode == 2
    for stream in (proc.stdout, proc.stderr):
        assert not any(c in stream for c in "\x07\x1b\u202e\u2066\u2069")
    assert "Acme\\u202egnp.exe" in proc.stdout and "Acme\\u202egnp.exe" in proc.stderr


def test_summary_escapes_the_datas_own_text(data_copy, tmp_path):
    def tamper(frame):  # the filing an aggregator transcribes is printed from sources.csv's covers column
        aggregated = (frame["via_aggregator"] == "true") & frame["covers"].str.contains("Transcribes ")
        frame.loc[aggregated, "covers"] = frame.loc[aggregated, "covers"] + BIDI_AND_BELL
        return frame

    edit_csv(data_copy, "sources.csv", tamper)
    proc = invoke_cli("summary", "--data-dir", data_copy, "--out", tmp_path / "coverage.csv")
    assert proc.returncode == 0, proc.stderr
    assert "\\u202e" in proc.stdout and not any(c in proc.stdout for c in "\x07\x1b\u202e")


def test_a_reader_that_stops_early_is_not_an_error():
    """`valuechain list | head -1`: the pipe closes after one line; the command exits 0 and prints no error."""
    lister = subprocess.Popen([sys.executable, "-m", "valuechain.cli", "list"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    lister.stdout.readline()
    lister.stdout.close()  # as `head -1` does
    _, err = lister.communicate(timeout=60)
    assert lister.returncode == 0 and b"Broken pipe" not in err and b"Traceback" not in err


@pytest.mark.parametrize("given", ["Base", "base.yaml", "params/Base.yml"])
def test_a_scenario_named_like_a_file_or_in_capitals_gets_a_suggestion(given):
    from valuechain.exceptions import ParameterError
    from valuechain.scenario.names import check_name

    with pytest.raises(ParameterError, match=r"did you mean 'base'\?$"):
        check_name(given)


def test_validate_checks_a_scenario_file_in_any_folder_and_its_rationales(tmp_path):
    """A file outside params/ that extends base from params/: validated as any scenario, the rationale rule included."""
    good = tmp_path / "cases" / "mine.yaml"
    good.parent.mkdir()
    good.write_text("extends: base\ntitle: Mine\nvaluation: {discount_rate: 0.2, rationale: A riskier build-out.}\n")
    bad = tmp_path / "cases" / "lazy.yaml"
    bad.write_text("extends: base\nvaluation: {discount_rate: 0.2}\n")
    proc = invoke_cli("validate", good, bad)
    assert proc.returncode == 2 and proc.stdout == "ok  mine: Mine\n"
    assert proc.stderr == (f"valuechain: error: {bad}: key 'valuation.discount_rate' changes base's value (0.15 -> 0.2) "
                           f"but 'valuation.rationale' is still base's; write why as 'valuation.rationale' in this file "
                           f"(a YAML comment does not count: no page shows it)\n")


def test_the_shipped_scenarios_validate():
    proc = invoke_cli("validate")
    assert proc.returncode == 0 and proc.stderr == ""
    assert [line.split(":")[0] for line in proc.stdout.splitlines()] == [
        "ok  bain_2030", "ok  base", "ok  bear", "ok  bull", "ok  sequoia_2023", "ok  sequoia_2024"]


def test_a_scenario_argument_is_a_name_a_file_in_params_or_a_file_elsewhere(tmp_path, monkeypatch):
    from valuechain import paths
    from valuechain.exceptions import ParameterError
    from valuechain.scenario.names import scenario_argument

    mine = tmp_path / "mine.yaml"
    mine.write_text("extends: base\n")
    assert scenario_argument("base") == ("base", None)
    assert scenario_argument(str(paths.PARAMS_DIR / "base.yaml")) == ("base", None)
    assert scenario_argument(str(mine)) == ("mine", mine.resolve())
    monkeypatch.chdir(tmp_path)
    assert scenario_argument("mine.yaml") == ("mine", mine.resolve())
    (tmp_path / "bear.yaml").write_text("extends: base\n")
    with pytest.raises(ParameterError) as taken:
        scenario_argument("bear.yaml")
    assert str(taken.value) == ("bear.yaml: its name 'bear' is a scenario's in params/ already, and the two would share "
                                "outputs/bear/; rename the file (the name is its stem), e.g. my_bear.yaml")
    with pytest.raises(ParameterError, match=r"^scenario name 'base.yaml' is not allowed; .*did you mean 'base'\?$"):
        scenario_argument("base.yaml")
    with pytest.raises(ParameterError) as missing:
        scenario_argument("cases/Bull.yaml")
    assert str(missing.value) == "cases/Bull.yaml: scenario file not found; did you mean 'bull'?"
