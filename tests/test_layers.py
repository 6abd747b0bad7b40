"""The import graph: every import (lazy ones inside functions included) points down the layers
of DESIGN.md §7, siblings do not import each other, the core stays free of Lightning, and no
module imports itself back through a circle."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("holozero", "models", "datamodules", "callbacks")
# layer of each package prefix (longest prefix wins); a module may import its own layer or below
LAYERS = {
    "holozero": 0,
    "models": 1,
    "datamodules": 1,
    "callbacks": 2,
    "holozero.commands": 3,
    "holozero.__main__": 3,  # `python -m holozero` is a command
}
SIBLINGS = {("models", "datamodules"), ("datamodules", "models")}  # same layer, kept apart
CORE_FORBIDDEN = ("lightning", "pytorch_lightning", "tensorboard", "jsonargparse")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> tuple[str, int]:
    best = max((p for p in LAYERS if module == p or module.startswith(p + ".")), key=len)
    return best, LAYERS[best]


def imports(path: Path, root: Path) -> set[str]:
    """Every module this file imports, resolved to absolute names (relative imports included)."""
    name = module_name(path, root)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module
            found.add(mod)
            found.update(f"{mod}.{alias.name}" for alias in node.names)  # `from pkg import module`
    return found


def graph(root: Path) -> dict[str, set[str]]:
    modules = {module_name(p, root): p for pkg in PACKAGES if (root / pkg).is_dir() for p in (root / pkg).rglob("*.py")}
    edges = {}
    for mod, path in modules.items():
        targets = set()
        for imp in imports(path, root):
            while imp and imp not in modules:  # `pkg.module.name` -> the module that defines name
                imp = imp.rpartition(".")[0]
            if imp and imp != mod:
                targets.add(imp)
        edges[mod] = targets
    return edges


def upward_imports(root: Path) -> list[str]:
    wrong = []
    for mod, targets in graph(root).items():
        mine, rank = layer_of(mod)
        for target in targets:
            theirs, target_rank = layer_of(target)
            if target_rank > rank or (mine, theirs) in SIBLINGS:
                wrong.append(f"{mod} ({mine}) imports {target} ({theirs})")
    return wrong


def circles(root: Path) -> list[str]:
    edges, found = graph(root), []
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(mod: str, path: list[str]) -> None:
        state[mod] = 1
        for nxt in sorted(edges.get(mod, ())):
            if state.get(nxt) == 1:
                found.append(" -> ".join((path + [mod])[(path + [mod]).index(nxt) :] + [nxt]))
            elif nxt not in state:
                visit(nxt, path + [mod])
        state[mod] = 2

    for mod in sorted(edges):
        if mod not in state:
            visit(mod, [])
    return found


def test_every_import_points_down_the_layers():
    wrong = upward_imports(ROOT)
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_itself_through_a_circle():
    found = circles(ROOT)
    assert not found, "\n".join(found)


def test_the_core_imports_no_training_framework():
    core = [p for p in (ROOT / "holozero").rglob("*.py") if "commands" not in p.parts and p.name != "__main__.py"]
    wrong = [
        f"{module_name(p, ROOT)} imports {imp}"
        for p in core
        for imp in imports(p, ROOT)
        if imp.split(".")[0] in CORE_FORBIDDEN
    ]
    assert not wrong, "\n".join(wrong)


def test_the_checks_catch_a_planted_upward_import_and_circle(tmp_path):
    """The checks can fail: a tree with a lazy upward import and a circle is caught."""
    for rel, text in {
        "holozero/__init__.py": "",
        "holozero/core.py": "def f():\n    from models.net import Net\n",  # core -> models: upward, lazy
        "holozero/a.py": "from .b import x\n",
        "holozero/b.py": "from holozero import a\nx = 1\n",  # a -> b -> a
        "models/__init__.py": "",
        "models/net.py": "from holozero.core import f\nNet = 1\n",
    }.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert upward_imports(tmp_path) == ["holozero.core (holozero) imports models.net (models)"]
    found = circles(tmp_path)
    assert "holozero.a -> holozero.b -> holozero.a" in found
    assert any("holozero.core" in c and "models.net" in c for c in found)
