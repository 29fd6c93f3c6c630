"""The one place that words the CLI's error lines on stderr, as Docker 20.10's client.

Docker's client prints an error as it got it: what its daemon refused reads
``Error response from daemon: …``; its own complaints (a bad flag value, a
missing file) are the bare text. For a few verbs the client words a missing
object itself, ``Error: No such container: x`` (inspect, logs, rm, cp, rmi,
``network rm``, ``volume rm``: the ones whose API call maps a 404 to its own
error). ``run`` and ``create`` put their name first and a hint after:
``docker: Error response from daemon: ….`` then ``See 'docker run --help'.``.

Wharf has no daemon; the engine (``runtime`` outside ``runtime.cli``) plays it.
Where an error was raised says who refused: in ``runtime.cli`` it is the
client's, anywhere else the daemon's; an error class may say otherwise with
``said_by`` (a filter Docker's daemon checks is checked in ``runtime.cli``).
The exit codes stay with the callers (``runtime.cli.main`` maps WharfError).
"""

from __future__ import annotations

import sys
from pathlib import Path

#: Docker's ``docker: `` before ``run``'s and ``create``'s refusals (and an unknown verb)
COMMAND_PREFIX = "wharf: "
#: what the engine refused, as Docker's client says of its daemon's answers
DAEMON_PREFIX = "Error response from daemon: "
#: the client's own wording of a missing object, and of a template that fails
CLIENT_PREFIX = "Error: "

_CLI_DIR = str(Path(__file__).resolve().parent)


def by_daemon(exc: BaseException) -> bool:
    """Whether Docker's daemon would have refused this (else its client did)."""
    said = getattr(exc, "said_by", None)
    if said:
        return said == "daemon"
    tb = exc.__traceback__
    if tb is None:
        return True
    while tb.tb_next is not None:
        tb = tb.tb_next
    return not str(Path(tb.tb_frame.f_code.co_filename).resolve()).startswith(_CLI_DIR)


def error_text(exc: BaseException) -> str:
    """The error as Docker's client prints it: the daemon's with its prefix, its own bare."""
    return f"{DAEMON_PREFIX}{exc}" if by_daemon(exc) else str(exc)


def command_error(exc: BaseException, missing_said_by_client: bool = False) -> None:
    """Print the line of a command that failed as a whole.

    ``missing_said_by_client``: the verb is one whose client words a missing object
    itself (``Error: No such container: x``), not its daemon.
    """
    from runtime.errors import NotFound

    if missing_said_by_client and isinstance(exc, NotFound) and str(exc).startswith("No such "):
        print(f"{CLIENT_PREFIX}{exc}", file=sys.stderr)
    else:
        print(error_text(exc), file=sys.stderr)


def run_error(exc: BaseException, verb: str, with_help: bool = True) -> None:
    """Print ``run``'s or ``create``'s refusal: ``wharf: <error>.`` and, before the
    container started, ``See 'wharf run --help'.`` (Docker's reportError)."""
    text = error_text(exc).removesuffix(".") + "."
    print(f"{COMMAND_PREFIX}{text}", file=sys.stderr)
    if with_help:
        print(f"See 'wharf {verb} --help'.", file=sys.stderr)


def daemon_error(message: object) -> None:
    """Print the line of one object the engine refused (the command goes on with the next)."""
    print(f"{DAEMON_PREFIX}{message}", file=sys.stderr)


def client_error(message: object) -> None:
    """Print the client's own wording: a missing object (``No such container: x``), a
    template that fails on an object."""
    print(f"{CLIENT_PREFIX}{message}", file=sys.stderr)
