"""The layers' import rules, checked on every file: the runtime stays a library, hosts hold no site.

``runtime`` imports no Django, Celery, ``webapp`` or ``worker`` (``wharf`` on one
host needs none of them); ``webapp`` imports no ``runtime`` (the site never
touches a host's engine, it sends jobs); ``worker`` imports no Django and no
``webapp`` (a host holds no database and no site code). Lazy imports inside
functions count too. Inside ``runtime``, imports run one way: no module reaches
itself through others (the image store once imported its registry and archive
code, which imported the store).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RULES = {
    "runtime": ("django", "celery", "kombu", "rest_framework", "channels", "webapp", "worker"),
    "webapp": ("runtime",),
    "worker": ("django", "rest_framework", "channels", "webapp"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(RULES))
def test_a_layer_imports_nothing_it_must_not(package):
    forbidden = RULES[package]
    broken = []
    files = sorted((REPO / package).rglob("*.py"))
    assert files, f"no Python files found under {package}/"
    for path in files:
        for name in imported_modules(path):
            top = name.split(".")[0]
            if top in forbidden:
                broken.append(f"{path.relative_to(REPO)} imports {name}")
    assert not broken, "\n".join(broken)


def test_the_checker_sees_lazy_imports(tmp_path):
    sample = tmp_path / "m.py"
    sample.write_text("def f():\n    from django.db import models\n    import webapp.x\n")
    assert imported_modules(sample) == {"django.db", "webapp.x"}


def runtime_modules() -> dict[str, Path]:
    """Map each module of ``runtime`` to its file (a package by its ``__init__``)."""
    out = {}
    for path in sorted((REPO / "runtime").rglob("*.py")):
        parts = path.relative_to(REPO).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def module_imports(path: Path, name: str, modules: Iterable[str]) -> set[str]:
    """Return the modules of ``modules`` that ``name`` imports, lazily or not.

    ``from pkg import mod`` is an import of ``pkg.mod`` (not of ``pkg``'s own
    code beyond loading it), so a package's ``__init__`` that only names its
    parts lazily makes no circle with them.
    """
    known = set(modules)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                full = f"{base}.{alias.name}"
                found.add(full if full in known else base)
    resolved = set()
    for target in found:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            resolved.add(target)
    return resolved


def import_circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Return the circles of a module graph: its strongly connected parts of two or more."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            part = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                part.append(top)
                if top == node:
                    break
            if len(part) > 1:
                circles.append(sorted(part))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_no_runtime_modules_import_each_other_in_a_circle():
    """Imports inside ``runtime`` run one way: a circle (store -> registry -> store) means
    a part that cannot be read, tested or loaded without the other."""
    modules = runtime_modules()
    graph = {name: module_imports(path, name, modules) for name, path in modules.items()}
    circles = import_circles(graph)
    assert not circles, "import circles: " + "; ".join(" <-> ".join(c) for c in circles)


SAMPLE = (
    "runtime.images",
    "runtime.images.store",
    "runtime.images.registry",
    "runtime.images.layers",
)


def test_the_circle_finder_sees_a_lazy_circle(tmp_path):
    pkg = tmp_path / "runtime" / "images"
    pkg.mkdir(parents=True)
    (pkg / "store.py").write_text("def pull():\n    from runtime.images import registry\n")
    (pkg / "registry.py").write_text("from runtime.images.store import pull\n")
    (pkg / "layers.py").write_text("from . import store\n")
    graph = {
        f"runtime.images.{m}": module_imports(pkg / f"{m}.py", f"runtime.images.{m}", SAMPLE)
        for m in ("store", "registry", "layers")
    }
    assert graph["runtime.images.layers"] == {"runtime.images.store"}
    assert import_circles(graph) == [["runtime.images.registry", "runtime.images.store"]]
