"""The ``wharf`` console script: hand the command to the fork server, or run it here.

This module imports almost nothing, so a call costs Python's start-up plus a
round trip to the warm fork server (``runtime.agent.forkserver``), which runs
the command with this process's stdin/stdout/stderr, cwd and environment.
When no server answers, the command runs in this process
(``runtime.cli.main``, the same code) and a server is started in the
background for the next call. ``WHARF_FORKSERVER=0`` always runs in-process.
"""

from __future__ import annotations

import _signal as signal  # the C modules: socket and signal import enum, selectors, …
import _socket as socket
import os
import struct
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:  # annotations only: this module imports as little as it can
    from collections.abc import Iterator

#: this checkout's ``runtime`` package: the server must run the same code
PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGWINCH)


def main() -> int:
    argv = sys.argv[1:]
    if os.environ.get("WHARF_FORKSERVER") == "0" or any(
        a.startswith(("--root", "--run-dir")) for a in argv
    ):
        return _in_process(argv)
    run = os.path.abspath(os.environ.get("WHARF_RUN") or "/run/wharf")
    code = _via_server(os.path.join(run, "cli.sock"), argv)
    if code is None:
        _start_server(run)
        return _in_process(argv)
    # the command ran elsewhere: skip this interpreter's slow tear-down
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _in_process(argv: list[str]) -> int:
    from runtime.cli.main import main as run_here

    return run_here(argv)


def _via_server(sock_path: str, argv: list[str]) -> int | None:
    """Run the command in a child of the fork server; None if there is none to ask."""
    from runtime.cli.wire import encode_request

    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(sock_path)
        request = encode_request(argv, os.getcwd(), _umask(), PACKAGE, dict(os.environ))
        stdio = struct.pack("3i", 0, 1, 2)
        s.sendmsg([request], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, stdio)])
    except OSError:
        s.close()
        return None
    lines = _lines(s)
    first = next(lines, "")
    if not first.startswith("pid "):
        s.close()
        return None  # a stale or stopping server: run it here
    child = int(first[4:])
    forwarded: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        forwarded.append(signum)
        _forward(child, signum)

    for sig in FORWARDED:
        signal.signal(sig, forward)
    last = next(lines, "")
    s.close()
    if not last.startswith("exit "):
        ending = [sig for sig in forwarded if sig != signal.SIGWINCH]
        if ending:
            # the command died of the signal we passed on (SIGTERM, SIGINT): end as
            # a killed command does, quietly, with 128 + the signal
            return 128 + ending[-1]
        from runtime.cli.errors import command_error

        command_error("the command's process ended without an exit status")
        return 125
    return int(last[5:])


def _lines(s: socket.socket) -> Iterator[str]:  # type: ignore[name-defined]
    buf = b""
    while True:
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            yield line.decode()
        try:
            chunk = s.recv(4096)
        except OSError:
            return
        if not chunk:
            return
        buf += chunk


def _forward(child: int, signum: int) -> None:
    try:  # noqa: SIM105 - contextlib would cost every call an import
        os.kill(child, signum)
    except ProcessLookupError:
        pass


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _start_server(run: str) -> None:
    """Start a fork server in the background for the next call (it exits if one runs)."""
    import subprocess

    try:
        os.makedirs(run, mode=0o711, exist_ok=True)
        with open(os.path.join(run, "forkserver.log"), "ab") as log:
            env = dict(os.environ, PYTHONPATH=os.path.dirname(PACKAGE))
            subprocess.Popen(
                [sys.executable, "-m", "runtime.agent.forkserver"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd="/",
                start_new_session=True,
            )
    except OSError:
        pass  # no server: every call runs in-process, as before


if __name__ == "__main__":
    sys.exit(main())
