import subprocess
import sys

from click.testing import CliRunner

from conftest import edit_csv
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
    proc = subprocess.run([sys.executable, "-m", "valuechain.cli", "summary", "--data-dir", str(data_copy), "--out", str(out)],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1
    assert proc.stderr.startswith("valuechain: error: companies.csv row 2, column layer: rule 'known_layer'")
    assert out.read_text() == "previous good output\n"
