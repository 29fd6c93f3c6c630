"""Every error of the runtime names its situation (``kind``), and one situation has one class.

Callers (the site, the worker) map ``kind`` to HTTP statuses and job failures,
so each class states its own, even when it is its parent's: a new subclass
cannot silently change what a caller sees.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from runtime.errors import WharfError

REPO = Path(__file__).resolve().parents[2]


def runtime_error_classes() -> list[type]:
    """Import each runtime module that defines a WharfError subclass; return those classes."""
    found = []
    for path in sorted((REPO / "runtime").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        names = [n.name for n in tree.body if isinstance(n, ast.ClassDef) and n.bases]
        if not names:
            continue
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        if module.endswith("__main__"):
            continue
        loaded = importlib.import_module(module)
        for name in names:
            cls = getattr(loaded, name, None)
            if isinstance(cls, type) and issubclass(cls, WharfError):
                found.append(cls)
    return found


def test_every_error_class_names_its_own_kind():
    classes = runtime_error_classes()
    assert len(classes) > 10, "the scan found too few error classes"
    missing = [f"{c.__module__}.{c.__qualname__}" for c in classes if "kind" not in vars(c)]
    assert not missing, "no kind of their own: " + ", ".join(missing)


def test_kinds_are_short_snake_case_names():
    for cls in runtime_error_classes():
        assert cls.kind.replace("_", "").isalpha() and cls.kind.islower(), cls
        assert len(cls.kind) <= 32, cls  # the site's column


def test_an_ambiguous_prefix_is_one_kind_everywhere():
    """A raise whose message says "ambiguous" or "multiple … match" raises AmbiguousPrefix."""
    wrong = []
    for path in sorted((REPO / "runtime").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            text = ast.unparse(node.exc.args[0]) if node.exc.args else ""
            says_ambiguous = "ambiguous" in text or ("multiple" in text and "match" in text)
            if says_ambiguous and ast.unparse(node.exc.func) != "AmbiguousPrefix":
                wrong.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert not wrong, "ambiguity raised as another kind: " + ", ".join(wrong)


def test_a_cleanup_step_says_what_it_swallowed(caplog):
    import logging

    import pytest

    from runtime.errors import Conflict, NotFound, cleanup_step

    log = logging.getLogger("wharf.test")
    with caplog.at_level(logging.DEBUG, "wharf.test"), cleanup_step(log, "unmounting x"):
        raise Conflict("busy")
    assert caplog.records[-1].getMessage() == "unmounting x failed (going on): busy"
    assert caplog.records[-1].levelno == logging.WARNING
    with pytest.raises(KeyError), cleanup_step(log, "only NotFound", NotFound):
        raise KeyError("not a cleanup failure: it goes on up")
