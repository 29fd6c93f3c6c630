"""The CLI words its error lines in one place (``runtime.cli.errors``).

A verb that prints its own ``Error: …`` or ``wharf: …`` to stderr would drift
from the others when the prefixes change towards Docker's client.
"""

from __future__ import annotations

import ast
from pathlib import Path

from runtime.cli import errors

CLI = Path(__file__).resolve().parents[2] / "runtime" / "cli"
PREFIXES = (errors.COMMAND_PREFIX, errors.DAEMON_PREFIX, errors.CLIENT_PREFIX)


def _leading_text(node: ast.expr) -> str:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values:
        return _leading_text(node.values[0])
    return ""


def error_prints(path: Path) -> list[str]:
    """Return the lines of ``path`` that print an error prefix to stderr themselves."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and getattr(node.func, "id", "") == "print"):
            continue
        to_stderr = any(
            k.arg == "file" and ast.unparse(k.value) == "sys.stderr" for k in node.keywords
        )
        if to_stderr and node.args and _leading_text(node.args[0]).startswith(PREFIXES):
            found.append(f"{path.name}:{node.lineno}")
    return found


def test_no_verb_prints_an_error_prefix_itself():
    offenders = [
        line
        for path in sorted(CLI.glob("*.py"))
        if path.name != "errors.py"
        for line in error_prints(path)
    ]
    assert not offenders, "print through runtime.cli.errors: " + ", ".join(offenders)


def test_the_checker_sees_an_f_string_prefix(tmp_path):
    sample = tmp_path / "verb.py"
    sample.write_text('import sys\nprint(f"Error: {x}", file=sys.stderr)\nprint("Error: x")\n')
    assert error_prints(sample) == ["verb.py:2"]


def test_the_lines_keep_their_words(capsys):
    errors.command_error("boom")
    errors.daemon_error("No such container: x")
    errors.client_error("bad")
    assert capsys.readouterr().err == (
        "wharf: boom\nError response from daemon: No such container: x\nError: bad\n"
    )
