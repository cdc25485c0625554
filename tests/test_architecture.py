"""The shape of the code, as docs/architecture.md draws it, checked on the source itself.

- Data flows one way: reports -> moderation (with its enforcement) -> audit. `reports` never imports
  `moderation`, `audit` imports neither, and no dotted path to moderation's code hides in their
  strings (the settings-string back channel this replaced). The reports app's templates load no
  template library of moderation's.
- Selectors read; they never import a service (services may use selectors, never the other way).
- Production code (config and the apps) never imports the benchmarks or the tests.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.template import engines

BASE_DIR = Path(__file__).resolve().parent.parent
APPS = ("config", "reports", "moderation", "audit")


def modules(*folders: str) -> Iterator[Path]:
    for folder in folders:
        yield from sorted((BASE_DIR / folder).rglob("*.py"))


def imported(path: Path) -> set[str]:
    """Every module `path` imports, spelt out: `from a import b` gives "a" and "a.b"."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def dotted_strings(path: Path) -> set[str]:
    """String constants that look like a dotted path to Python code (settings-style references)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        dotted = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if dotted and re.fullmatch(r"[a-z_]+(\.[A-Za-z_]+)+", node.value):
            found.add(node.value)
    return found


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def offences(folder: str, forbidden: tuple[str, ...]) -> list[str]:
    found = []
    for path in modules(folder):
        for name in imported(path) | dotted_strings(path):
            if any(_within(name, package) for package in forbidden):
                found.append(f"{path.relative_to(BASE_DIR)}: {name}")
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [("reports", ("moderation",)), ("audit", ("moderation", "reports"))],
)
def test_data_flows_one_way(folder, forbidden):
    assert offences(folder, forbidden) == []


def test_the_reports_templates_load_no_template_library_of_moderation():
    libraries = engines["django"].engine.libraries  # {name: module path}
    loaded = set()
    for template in sorted((BASE_DIR / "templates" / "reports").rglob("*.html")):
        for names in re.findall(r"{%\s*load\s+([^%]+?)\s*%}", template.read_text()):
            loaded.update((template.name, name) for name in names.split() if name != "from")
    assert loaded, "the check must see the {% load %} tags it judges"
    assert [(page, name) for page, name in sorted(loaded) if _within(libraries[name], "moderation")] == []


def test_selectors_never_import_services():
    selectors = [path for path in modules(*APPS) if path.name == "selectors.py"]
    assert len(selectors) >= 3  # reports, moderation, moderation/enforcement
    found = [
        f"{path.relative_to(BASE_DIR)}: {name}"
        for path in selectors
        for name in imported(path)
        if name.endswith(".services") or ".services." in name
    ]
    assert found == []


def test_production_code_never_imports_the_benchmarks_or_the_tests():
    found = []
    for folder in APPS:
        found += offences(folder, ("benchmarks", "tests"))
    # The one exception is the route of the baseline view, added only when BENCHMARKS=1.
    assert found == ["config/urls.py: benchmarks.urls"]


def test_the_checks_see_a_forbidden_import(tmp_path):
    """The walker itself: an offending import and a settings-style string are both found."""
    sample = tmp_path / "sample.py"
    sample.write_text('from moderation.enforcement import services\nBLOCKED = "moderation.enforcement.selectors.x"\n')
    assert imported(sample) >= {"moderation.enforcement", "moderation.enforcement.services"}
    assert dotted_strings(sample) == {"moderation.enforcement.selectors.x"}


# --- docs/architecture.md stays true ------------------------------------------------------------------

ARCHITECTURE = (BASE_DIR / "docs" / "architecture.md").read_text()


def _section(title: str) -> str:
    return ARCHITECTURE.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def test_every_rule_named_in_the_architecture_document_is_where_it_says():
    lines = [line for line in _section("Where each rule lives").splitlines() if line.startswith("- ")]
    checked = 0
    for line in lines:
        current = None
        for token in re.findall(r"`([^`]+)`", line):
            if token.endswith(".py"):
                current = BASE_DIR / token
                assert current.is_file(), line
                continue
            assert current is not None, line
            name = re.split(r"[(\s]", token)[0].split(".")[-1]
            found = re.search(rf"\b{re.escape(name)}\b", current.read_text()) is not None
            assert found, f"{name} is not in {current.relative_to(BASE_DIR)}: {line}"
            checked += 1
    assert len(lines) > 30 and checked > 60


def test_the_architecture_tree_lists_every_module_of_the_apps():
    tree = _section("The tree, one line per module").split("```")[1]
    listed = set()
    for line in tree.splitlines():
        for token in re.findall(r"(?:^|\s|,)([\w.]+/[\w./*]*|manage\.py|pyproject\.toml)", line.split("  ")[0]):
            listed.add(token.rstrip(","))
    assert len(listed) > 80
    for path in listed:
        if "*" not in path:
            assert (BASE_DIR / path).exists(), path
    missing = []
    for path in modules("config", "reports", "moderation", "audit", "benchmarks"):
        relative = str(path.relative_to(BASE_DIR))
        if "/migrations/" in relative or path.name == "__init__.py":
            continue
        if relative not in listed and not any(relative.startswith(p) for p in listed if p.endswith("/")):
            missing.append(relative)
    assert missing == []
