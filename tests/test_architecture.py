"""The package's dependency rule, checked on every import statement of every module (inside
functions too: an import hidden in a function is still a dependency).

    root files -> stats | dataset -> scenario -> model -> report -> publish -> batch -> cli

A module imports only from its own layer or the layers before it; ``stats`` and ``dataset`` sit
side by side and import neither each other; ``publish`` reads ``outputs/`` as data and imports
neither ``model``, ``scenario`` nor ``batch``; no module imports another's private (underscore)
name; and no chain of imports leads from a module back to itself.
"""
from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from valuechain import paths

ROOT_FILES = {"paths", "exceptions", "layers", "mime", "files",
              "nested",  # nested: the key-path walk of a parameters mapping, read by scenario and by publish, which may not import scenario
              "escape"}  # escape: the one escaping of data text, used by report (narratives, tables) and publish (pages)
RANK = {"root": 0, "stats": 1, "dataset": 1, "scenario": 2, "model": 3, "report": 4, "publish": 5, "batch": 6, "cli": 7}
NEVER = {"publish": {"model", "scenario", "batch"}}
FACADE = "valuechain"  # the package's own __init__ re-exports load_dataset lazily (``import valuechain as vc; vc.load_dataset()``)


def _module_name(path: Path) -> str:
    parts = path.relative_to(paths.PACKAGE_DIR.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _layer(module: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "root"
    if parts[1] in RANK and parts[1] != "root":
        return parts[1]
    assert parts[1] in ROOT_FILES, f"{module}: a root module that is not in the rule; add it to ROOT_FILES or move it into a layer"
    return "root"


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(paths.PACKAGE_DIR.rglob("*.py"))}


MODULES = _modules()


def _resolve(name: str) -> str:
    """The module an imported dotted name lives in (``valuechain.model.engine.evaluate`` -> ``valuechain.model.engine``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _imports(path: Path):
    """(line, imported module, names taken from it) for every import of a valuechain module in ``path``."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "valuechain":
                    yield node.lineno, _resolve(alias.name), ()
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "valuechain":
            assert node.level == 0, f"{path}:{node.lineno}: use an absolute import"
            for alias in node.names:
                target = f"{node.module}.{alias.name}"
                if target in MODULES:  # "from valuechain.model import engine" imports a module
                    yield node.lineno, target, ()
                else:
                    yield node.lineno, _resolve(node.module), (alias.name,)


def _edges():
    for module, path in MODULES.items():
        for line, target, names in _imports(path):
            yield module, path, line, target, names


def _where(path: Path, line: int) -> str:
    shown = path.relative_to(paths.REPO_ROOT) if path.is_relative_to(paths.REPO_ROOT) else path
    return f"{shown}:{line}"


def test_every_module_belongs_to_a_layer():
    assert {_layer(m) for m in MODULES} <= set(RANK)


def test_no_module_imports_a_layer_after_its_own():
    wrong = []
    for module, path, line, target, _ in _edges():
        if module == FACADE or target == FACADE:
            continue
        mine, theirs = _layer(module), _layer(target)
        if mine == theirs:
            continue
        if RANK[theirs] >= RANK[mine] or theirs in NEVER.get(mine, ()):
            wrong.append(f"{_where(path, line)}: {module} ({mine}) imports {target} ({theirs})")
    assert not wrong, "imports against the dependency rule:\n" + "\n".join(wrong)


def _private_attributes(path: Path):
    """(line, module, name) for every ``alias._name`` read of a valuechain module imported under ``alias``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "valuechain":
            for alias in node.names:
                if f"{node.module}.{alias.name}" in MODULES:
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in MODULES and alias.asname:
                    aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases
                and node.attr.startswith("_") and not node.attr.startswith("__")):
            yield node.lineno, aliases[node.value.id], node.attr


def test_no_module_imports_another_modules_private_name():
    wrong = [f"{_where(path, line)}: {module} imports {target}.{name}"
             for module, path, line, target, names in _edges() for name in names
             if name.startswith("_") and target != module]
    wrong += [f"{_where(path, line)}: {module} reads {target}.{name}"
              for module, path in MODULES.items() for line, target, name in _private_attributes(path) if target != module]
    assert not wrong, "private names imported across modules (make them public in a module of their own):\n" + "\n".join(wrong)


def test_no_import_cycle():
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    lines = {}
    for module, path, line, target, _ in _edges():
        if module in (FACADE,) or target == FACADE or target == module:
            continue
        graph[module].add(target)
        lines[(module, target)] = _where(path, line)
    # a package's __init__ that imports nothing can sit on no cycle; the others are ordinary modules
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt):] + [nxt]
                cycles.append(" -> ".join(f"{a} ({lines[(a, b)]})" for a, b in zip(cycle, cycle[1:])) + f" -> {nxt}")
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(cycles)


@pytest.mark.parametrize("source, expected", [
    ("from valuechain.report import labels\n", ("valuechain.report.labels", ())),
    ("from valuechain.model.engine import evaluate\n", ("valuechain.model.engine", ("evaluate",))),
    ("import valuechain.stats.inference\n", ("valuechain.stats.inference", ())),
])
def test_the_import_reader_names_the_module_imported(tmp_path, source, expected):
    """The checks above rest on this reader: a missed import would let a violation through."""
    f = tmp_path / "m.py"
    f.write_text(source)
    assert [(t, n) for _, t, n in _imports(f)] == [expected]


def test_a_violation_is_reported_with_its_file_and_line(monkeypatch, tmp_path):
    """Planting an upward import makes the rule fail and name the offending line."""
    bad = paths.PACKAGE_DIR / "stats" / "inference.py"
    planted = tmp_path / "inference.py"
    planted.write_text(bad.read_text() + "\n\ndef _f():\n    from valuechain.report import labels\n")
    monkeypatch.setitem(MODULES, "valuechain.stats.inference", planted)
    with pytest.raises(AssertionError, match=r"inference.py:\d+: valuechain.stats.inference \(stats\) imports valuechain.report.labels \(report\)"):
        test_no_module_imports_a_layer_after_its_own()


REFERENCE = re.compile(r":(?:func|mod|class|data|meth|attr):`~?(valuechain\.[\w.]+)`")


def _resolves(name: str) -> bool:
    parts = name.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        try:
            for attribute in parts[i:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            return False
        return True
    return False


def test_every_cross_reference_in_a_docstring_names_something_that_exists():
    """A module moved or a function renamed leaves no docstring pointing at its old name."""
    wrong = [f"{path.relative_to(paths.REPO_ROOT)}: {m.group(1)}" for path in MODULES.values()
             for m in REFERENCE.finditer(path.read_text(encoding="utf-8")) if not _resolves(m.group(1))]
    assert not wrong, "references to names that do not exist:\n" + "\n".join(wrong)


def test_the_reference_check_catches_a_stale_name():
    assert _resolves("valuechain.model.engine.evaluate") and _resolves("valuechain.stats")
    assert not _resolves("valuechain.model.core.evaluate") and not _resolves("valuechain.model.engine.inputs")
