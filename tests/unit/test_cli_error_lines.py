"""The CLI words its error lines in one place (``runtime.cli.errors``).

A verb that prints its own ``Error: …`` or ``wharf: …`` to stderr would drift
from the others when the prefixes change towards Docker's client.
"""

from __future__ import annotations

import ast
from pathlib import Path

from runtime.cli import errors
from runtime.errors import WharfError

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
    errors.daemon_error("No such container: x")
    errors.client_error("No such image: y")
    assert capsys.readouterr().err == (
        "Error response from daemon: No such container: x\nError: No such image: y\n"
    )


def test_who_refused_is_where_the_error_was_raised(capsys):
    from runtime.cli.filters import InvalidFilter, parse

    # raised in runtime.cli: the client's own refusal, printed bare
    from runtime.cli.main import key_values

    try:
        key_values(["=x"], "--label")
    except WharfError as exc:
        client = exc
    # raised by the engine (a frame outside runtime.cli): Docker's daemon's answer
    import runtime.errors as engine

    try:
        exec(compile("raise NotFound('network n not found')", engine.__file__, "exec"),
             {"NotFound": engine.NotFound})  # fmt: skip
    except engine.NotFound as exc:
        daemon = exc
    try:
        parse(["colour=red"], frozenset({"name"}))
    except InvalidFilter as exc:
        filtered = exc
    errors.command_error(daemon)
    errors.command_error(filtered)
    errors.run_error(daemon, "run")
    errors.run_error(daemon, "run", with_help=False)
    assert capsys.readouterr().err == (
        "Error response from daemon: network n not found\n"
        "Error response from daemon: Invalid filter 'colour'\n"
        "wharf: Error response from daemon: network n not found.\n"
        "See 'wharf run --help'.\n"
        "wharf: Error response from daemon: network n not found.\n"
    )
    assert errors.error_text(client) == "invalid --label '=x': expected KEY=VALUE"


def test_a_missing_object_is_worded_by_the_client_where_docker_s_is(capsys):
    import runtime.errors as engine

    try:
        exec(compile("raise ContainerNotFound('No such container: x')", engine.__file__, "exec"),
             {"ContainerNotFound": engine.ContainerNotFound})  # fmt: skip
    except engine.ContainerNotFound as exc:
        missing = exc
    errors.command_error(missing)  # stop, kill, start, exec …: the daemon's answer
    errors.command_error(missing, missing_said_by_client=True)  # inspect, logs, rm, cp
    assert capsys.readouterr().err == (
        "Error response from daemon: No such container: x\nError: No such container: x\n"
    )
