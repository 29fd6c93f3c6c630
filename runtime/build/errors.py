"""Build errors name the Dockerfile line, as Docker's do."""

from __future__ import annotations

from runtime.errors import InvalidArgument


class BuildError(InvalidArgument):
    """A Dockerfile or a step is wrong; the message starts with ``Dockerfile:LINE``."""

    kind = "invalid_argument"
    #: Docker's client prints a build's failure as its build stream carries it, bare
    #: (no "Error response from daemon: "); see runtime.cli.errors
    said_by = "client"

    def __init__(self, message: str, line: int | None = None, exit_code: int | None = None) -> None:
        where = f"Dockerfile:{line}: " if line else ""
        super().__init__(where + message)
        self.line = line
        self.step_exit_code = exit_code
