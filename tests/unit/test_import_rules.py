"""The layers' import rules, checked on every file: the runtime stays a library, hosts hold no site.

``runtime`` imports no Django, Celery, ``webapp`` or ``worker`` (``wharf`` on one
host needs none of them); ``webapp`` imports no ``runtime`` (the site never
touches a host's engine, it sends jobs); ``worker`` imports no Django and no
``webapp`` (a host holds no database and no site code). Lazy imports inside
functions count too.
"""

from __future__ import annotations

import ast
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
