"""The documentation: generated pages match the code, the README stays short, every link resolves."""
import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _generator():
    spec = importlib.util.spec_from_file_location("docs_generate", DOCS / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


generate = _generator()


@pytest.mark.parametrize("page", sorted(generate.PAGES))
def test_generated_page_is_current(page):
    path = DOCS / page
    assert path.exists(), f"docs/{page} is missing; run make docs"
    expected = generate.PAGES[page]()
    assert path.read_text(encoding="utf-8") == expected, f"docs/{page} is stale; run make docs and commit it"


def test_generated_pages_are_deterministic():
    for page, build in generate.PAGES.items():
        text = build()
        assert text == build(), page
        assert str(ROOT) not in text and str(Path.home()) not in text, f"docs/{page} holds an absolute path"


def test_check_names_each_stale_page_and_writing_makes_them_current(tmp_path, capsys):
    assert generate.main(["--check"], docs_dir=tmp_path) == 1
    assert not list(tmp_path.rglob("*.md"))  # --check writes nothing
    stale = capsys.readouterr().err
    assert all(f"docs/{page} is stale" in stale for page in generate.PAGES)
    assert generate.main([], docs_dir=tmp_path) == 0
    assert generate.main(["--check"], docs_dir=tmp_path) == 0
    (tmp_path / "reference" / "cli.md").write_text("edited by hand\n", encoding="utf-8")
    assert generate.main(["--check"], docs_dir=tmp_path) == 1
    assert capsys.readouterr().err.strip() == "docs/reference/cli.md is stale: run make docs"


def test_cli_page_holds_the_help_of_every_command():
    text = generate.cli_page()
    for command in ("valuechain", "valuechain run", "valuechain sweep", "valuechain data refresh", "valuechain report"):
        assert f"\n## {command}\n" in text and f"Usage: {command} [OPTIONS]" in text
    assert "--set KEY=VALUE" in text


def test_schema_page_documents_every_field_with_its_comment():
    text = generate.scenario_schema_page()
    assert "| `demand_gap.capital.servers_life_years` | number in [3, 8] | required | life of servers and networking" in text
    assert "| `uncertainty.draws` | integer in [100, 1,000,000] | `5000` |" in text
    assert "`lab_economics.investments[].investor`" in text and "`layers.<layer>.pass_through`" in text


def test_readme_is_short():
    readme = (ROOT / "README.md").read_bytes()
    assert len(readme) <= 15_000, f"README.md is {len(readme):,} bytes; move detail into docs/"
    lines = readme.decode("utf-8").count("\n")
    assert lines <= 160, f"README.md has {lines} lines; move detail into docs/"


CODE = re.compile(r"^```.*?^```|`[^`\n]*`", re.S | re.M)
LINK = re.compile(r"\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)


def _relative_links(path: Path):
    text = CODE.sub("", path.read_text(encoding="utf-8"))
    for target in LINK.findall(text):
        if SCHEME.match(target):
            continue
        yield target


def _anchors(path: Path) -> set[str]:
    """The anchors GitHub gives the headings of a Markdown page."""
    text = re.sub(r"^```.*?^```", "", path.read_text(encoding="utf-8"), flags=re.S | re.M)
    headings = re.findall(r"^#+\s+(.*?)\s*$", text, re.M)
    return {re.sub(r"[^a-z0-9 _-]", "", h.lower()).replace(" ", "-") for h in headings}


def _broken_links(path: Path) -> list[str]:
    """Relative links of ``path`` whose file, or whose heading in a Markdown file, does not exist."""
    broken = []
    for target in _relative_links(path):
        file, _, anchor = target.partition("#")
        linked = (path.parent / file).resolve() if file else path
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in _anchors(linked)):
            broken.append(target)
    return broken


@pytest.mark.parametrize("page", ["README.md", "CHANGELOG.md", *sorted(str(p.relative_to(ROOT)) for p in DOCS.rglob("*.md"))])
def test_every_relative_link_points_to_a_file(page):
    broken = _broken_links(ROOT / page)
    assert not broken, f"{page} links to files or headings that do not exist: {', '.join(broken)}"


def test_the_link_check_finds_a_broken_link(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# A page\n[ok](page.md) [gone](missing.md#part) [web](https://example.com) `[code](nowhere.md)`\n"
                    "[here](#a-page) [there](page.md#no-such-heading)\n")
    assert list(_relative_links(page)) == ["page.md", "missing.md#part", "#a-page", "page.md#no-such-heading"]
    assert _broken_links(page) == ["missing.md#part", "page.md#no-such-heading"]
