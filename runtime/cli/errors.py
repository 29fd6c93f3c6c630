"""The one place that words the CLI's error lines on stderr.

Every verb reports a failure through these functions, so the prefixes (and any
change to them towards Docker's client) live here only. Docker's client says
``Error response from daemon: …`` for what its daemon refused and ``Error: …``
for its own complaints; a failure of a whole command is Wharf's ``wharf: …``.
The exit codes stay with the callers (``runtime.cli.main`` maps WharfError).
"""

from __future__ import annotations

import sys

#: a failure of the command as a whole (``runtime.cli.main``'s line for a WharfError)
COMMAND_PREFIX = "wharf: "
#: what the engine refused for one object among several (``rm a b c``), as Docker's daemon
DAEMON_PREFIX = "Error response from daemon: "
#: the client's own complaint: input refused before any work, a template that fails
CLIENT_PREFIX = "Error: "


def command_error(message: object) -> None:
    """Print the one line of a command that failed as a whole."""
    print(f"{COMMAND_PREFIX}{message}", file=sys.stderr)


def daemon_error(message: object) -> None:
    """Print the line of one object the engine refused (the command goes on with the next)."""
    print(f"{DAEMON_PREFIX}{message}", file=sys.stderr)


def client_error(message: object) -> None:
    """Print the client's own complaint about its input or its output."""
    print(f"{CLIENT_PREFIX}{message}", file=sys.stderr)
