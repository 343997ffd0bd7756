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


# Where production code may load the simulator: the one mount point, and the sign-in service
# factory, which imports it inside the function, after checking that it runs in simulator mode.
SIMULATOR_MOUNT_POINTS = {"web/app.py"}
SIMULATOR_FACTORIES = {("web/identity/asan_signin.py", "build_asan_service")}


def _simulator_imports(tree: ast.AST, path: str, function: str | None = None) -> list[str]:
    """`web.simulator` imports that run when the module is loaded (or its functions called)."""
    found: list[str] = []
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) in {
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        }:
            found += [where for child in node.orelse for where in _simulator_imports(child, path)]
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
            )
            if any(name == "web.simulator" or name.startswith("web.simulator.") for name in names):
                found.append(f"{path}:{node.lineno} in {function or 'module'}")
            continue
        inner = node.name if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) else function
        if (path, inner) in SIMULATOR_FACTORIES:
            continue
        found += _simulator_imports(node, path, inner)
    return found


def test_production_code_does_not_import_the_simulator():
    """Development code stays out of production paths: only the mount point in `create_app`
    and the simulator-mode branch of the Asan İmza service factory reach `web.simulator`."""
    offenders = []
    for path in sorted(WEB.rglob("*.py")):
        module = path.relative_to(ROOT).as_posix()
        if (
            module.startswith(("web/simulator/", "web/devdata/"))
            or module in SIMULATOR_MOUNT_POINTS
        ):
            continue
        offenders += _simulator_imports(ast.parse(path.read_text(encoding="utf-8")), module)
    assert offenders == []


def test_the_simulator_check_sees_an_import():
    """The check above would notice a production module importing the simulator."""
    tree = ast.parse("import os\n\ndef f():\n    from web.simulator.store import X\n")
    assert _simulator_imports(tree, "web/x.py") == ["web/x.py:4 in f"]
