"""The bundle to send: pages, briefs, workbooks, decks and SVG charts, relative paths, no notebook, no link followed."""
import json
import os
import zipfile

import pytest

from tests.conftest import invoke_cli
from valuechain.exceptions import OutputError
from valuechain.publish import bundle


def _scenario(outputs, name, secret):
    folder = outputs / name
    folder.mkdir(parents=True)
    (folder / "parameters.json").write_text(json.dumps({"name": name}))
    for stem in ("01_profit_capture", "02_demand_gap"):
        (folder / f"{stem}.ipynb").write_text("{}")
        (folder / f"{stem}.html").write_text(f"<p>{stem}</p>")
    (folder / "03_lab_economics.failed.ipynb").write_text("{}")
    (folder / "03_lab_economics.failed.html").write_text("a failed run's leftover")
    for file in (f"{name}.xlsx", f"{name}.pptx", f"{name}-brief.pdf", "profit-pool-2025.png", "profit-pool-2025.svg"):
        (folder / file).write_bytes(b"x" * 10)
    # planted: a page that is a link out of the folder, a manifest that names a file outside it
    (folder / "04_valuations.ipynb").write_text("{}")
    os.symlink(secret, folder / "04_valuations.html")
    (folder / "notes.txt").write_text("not written by valuechain")
    manifest = {"workbook": f"{name}.xlsx", "deck": "../../secret.txt", "brief": f"{name}-brief.pdf",
                "charts": [{"title": "Profit pool", "png": "profit-pool-2025.png", "svg": "profit-pool-2025.svg"}]}
    (folder / "exports.json").write_text(json.dumps(manifest))


@pytest.fixture
def outputs(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    outputs = tmp_path / "outputs"
    _scenario(outputs, "base", secret)
    _scenario(outputs, "bear", secret)
    (outputs / "index.html").write_text("<p>index</p>")
    (outputs / "metrics.csv").write_text("a,b\n")
    (outputs / "run.json").write_text("{}")
    elsewhere = tmp_path / "elsewhere"
    _scenario(elsewhere, "linked", secret)
    os.symlink(elsewhere / "linked", outputs / "linked")  # a scenario folder that is a link is never read
    return outputs


def test_the_bundle_holds_the_pages_brief_workbook_deck_and_svg_charts_and_nothing_else(outputs, capsys):
    path = bundle.write(outputs)
    assert path == outputs / "valuechain-bundle.zip"
    names = bundle.zip_names(path)
    per = ["01_profit_capture.html", "02_demand_gap.html", "{}-brief.pdf", "{}.xlsx", "profit-pool-2025.svg"]
    assert names == ["index.html", "metrics.csv",
                     *(f"base/{n.format('base')}" for n in per), *(f"bear/{n.format('bear')}" for n in per)]
    with zipfile.ZipFile(path) as archive:
        assert archive.read("base/01_profit_capture.html") == b"<p>01_profit_capture</p>"
        assert all(b"private" not in archive.read(n) for n in names)
    warned = capsys.readouterr().err
    assert "'../../secret.txt' is not a plain file name" in warned


def test_a_link_or_a_dotdot_planted_in_outputs_is_not_followed(outputs, tmp_path):
    names = [arcname for _, arcname in bundle.members(outputs)]
    assert not any(n.startswith("linked/") or ".." in n or n.startswith("/") for n in names)
    assert "base/04_valuations.html" not in names and "base/base.pptx" not in names  # link, and a deck named as ../
    assert "base/notes.txt" not in names and not any(n.endswith(".ipynb") for n in names)


def test_chosen_scenarios_only_and_a_missing_one_is_one_line(outputs):
    names = [arcname for _, arcname in bundle.members(outputs, ["base"], charts="png")]
    assert [n for n in names if n.startswith("base/")][-1] == "base/profit-pool-2025.png"
    assert not any(n.startswith("bear/") for n in names)
    with pytest.raises(OutputError, match="no outputs for scenario 'bull'; run 'valuechain run bull' first"):
        bundle.members(outputs, ["bull"])


def test_the_command_prints_the_path_and_size(outputs, tmp_path):
    out = tmp_path / "send.zip"
    result = invoke_cli("bundle", "base", "--outputs", outputs, "--out", out)
    assert result.returncode == 0
    assert result.stdout == f"Bundle written to {out} (7 files, {out.stat().st_size / 1e6:.1f} MB)\n"
    refused = invoke_cli("bundle", "nope", "--outputs", outputs)
    assert refused.returncode == 2 and "no outputs for scenario 'nope'" in refused.stderr
