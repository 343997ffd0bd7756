"""The layout's rules (docs/architecture.md), checked on the source so they cannot rot."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "web"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _modules() -> dict[str, set[str]]:
    return {path.relative_to(ROOT).as_posix(): _imports(path) for path in sorted(WEB.rglob("*.py"))}


def test_no_routes_module_imports_another():
    def is_routes(name: str) -> bool:
        return name.rsplit(".", 1)[-1].endswith("routes")

    offenders = {
        module: sorted(name for name in imported if is_routes(name))
        for module, imported in _modules().items()
        if Path(module).stem.endswith("routes")
    }
    assert {module: names for module, names in offenders.items() if names} == {}


def test_services_know_no_http():
    """Domain services take and return plain values: no Litestar requests or responses."""
    offenders = {
        module: sorted(name for name in imported if name.startswith("litestar"))
        for module, imported in _modules().items()
        if Path(module).stem == "service"
    }
    assert {module: names for module, names in offenders.items() if names} == {}


def test_the_architecture_doc_names_every_module():
    """docs/architecture.md's “where does X live” table covers every module of the code."""
    doc = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    modules = [
        path.relative_to(ROOT).as_posix()
        for folder in (WEB, ROOT / "models")
        for path in sorted(folder.rglob("*.py"))
        if path.name != "__init__.py" and "migrations" not in path.parts
    ]
    assert [module for module in modules if f"`{module}`" not in doc] == []
