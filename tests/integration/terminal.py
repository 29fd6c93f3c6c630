"""A real terminal for tests: a tmux server of its own, keys in, the screen back."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import time
import uuid

from tests.integration.conftest import REPO


class Terminal:
    """One tmux window running a shell; ``type`` keys in, ``wait_for`` reads the screen.

    ``wharf ARGS`` runs the CLI of the test root; ``run(COMMAND)`` any other command
    (the docker CLI pointed at the root's Engine API). Each echoes its exit code when
    it returns, for ``exit_code``."""

    def __init__(self, env: dict[str, str]) -> None:
        self.server = f"wharf-test-{uuid.uuid4().hex[:8]}"
        self.env = env
        self.runs = 0
        self._tmux("new-session", "-d", "-s", "t", "-x", "120", "-y", "40", "sh")
        self.wharf_cmd = " ".join(
            [
                "env",
                f"WHARF_ROOT={shlex.quote(env['WHARF_ROOT'])}",
                f"WHARF_RUN={shlex.quote(env['WHARF_RUN'])}",
                "WHARF_FORKSERVER=0",
                shlex.quote(sys.executable),
                "-m",
                "runtime.cli.main",
            ]
        )
        self.type(f"cd {shlex.quote(str(REPO))}; clear", "Enter")

    def _tmux(self, *args: str) -> str:
        return subprocess.run(
            ["tmux", "-L", self.server, *args], check=True, capture_output=True, text=True
        ).stdout

    def type(self, *keys: str) -> None:
        """Send keys as tmux names them (``Enter``, ``C-c``) or as literal text."""
        self._tmux("send-keys", "-t", "t", *keys)

    def wharf(self, args: str) -> None:
        """Run ``wharf ARGS`` at the shell prompt, then echo its exit code when it returns."""
        self.run(f"{self.wharf_cmd} {args}")

    def run(self, command: str) -> None:
        """Run a shell command line at the prompt, then echo its exit code when it returns."""
        self.runs += 1
        self.type(f"{command}; echo wharf-exit-{self.runs}=$?", "Enter")

    def resize(self, cols: int, rows: int) -> None:
        self._tmux("resize-window", "-t", "t", "-x", str(cols), "-y", str(rows))

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", "t", "-S", "-200")

    def wait_for(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            screen = self.screen()
            if text in screen:
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"the terminal never showed {text!r}; it shows:\n{screen}")
            time.sleep(0.1)

    def exit_code(self) -> int:
        """Wait for the last ``wharf`` to return; its exit code."""
        pattern = re.compile(rf"wharf-exit-{self.runs}=(\d+)")
        deadline = time.monotonic() + 30
        while not (found := pattern.search(self.screen())):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the command never returned; the terminal shows:\n{self.screen()}"
                )
            time.sleep(0.1)
        return int(found.group(1))

    def close(self) -> None:
        subprocess.run(["tmux", "-L", self.server, "kill-server"], capture_output=True)
