"""A thin, stateless adapter over an OCI runtime's command line (runc or crun).

It keeps no state of its own: the container's state machine lives in
``runtime.containers``; this module only turns calls into ``runc`` commands and
their failures into ``OCIRuntimeError`` with the runtime's own message.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from runtime.errors import CommandNotExecutable, CommandNotFound, OCIRuntimeError, WharfError

_NOT_FOUND = ("executable file not found", "no such file or directory")
_NOT_EXECUTABLE = ("permission denied", "is a directory", "exec format error")


def classify_start_error(message: str) -> WharfError:
    """Map a runtime's start failure onto Docker's exit codes (127, 126, else 125)."""
    text = message.strip()
    lower = text.lower()
    if "exec:" in lower or "exec " in lower or "starting container process" in lower:
        if any(s in lower for s in _NOT_FOUND):
            return CommandNotFound(text)
        if any(s in lower for s in _NOT_EXECUTABLE):
            return CommandNotExecutable(text)
    return OCIRuntimeError(text)


class OCIRuntime:
    """One runtime binary with its own state directory."""

    def __init__(self, path: str, state_root: Path) -> None:
        self.path = path
        self.state_root = state_root

    def argv(self, *args: str) -> list[str]:
        return [self.path, "--root", str(self.state_root), *args]

    def _run(self, *args: str, timeout: float = 60) -> str:
        proc = subprocess.run(
            self.argv(*args),
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if proc.returncode != 0:
            lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
            raise OCIRuntimeError(
                f"{Path(self.path).name} {args[0]}: "
                f"{lines[-1] if lines else f'exit status {proc.returncode}'}"
            )
        return proc.stdout

    def kill(self, ctr_id: str, signal: str | int, all_processes: bool = False) -> None:
        args = ["kill"] + (["--all"] if all_processes else []) + [ctr_id, str(signal)]
        self._run(*args)

    def update(self, ctr_id: str, resources: dict) -> None:
        """Apply new cgroup limits (OCI linux.resources) to a live container at once."""
        import json
        import tempfile

        with tempfile.NamedTemporaryFile("w", suffix=".json") as f:
            json.dump(resources, f)
            f.flush()
            self._run("update", "--resources", f.name, ctr_id)

    def pause(self, ctr_id: str) -> None:
        self._run("pause", ctr_id)

    def resume(self, ctr_id: str) -> None:
        self._run("resume", ctr_id)

    def knows(self, ctr_id: str) -> bool:
        """Tell whether the runtime still keeps state for a container (no process started)."""
        return (self.state_root / ctr_id).exists()

    def delete(self, ctr_id: str, force: bool = True) -> None:
        """Delete the runtime's record of a container; a missing one is no error."""
        if not self.knows(ctr_id):
            return
        try:
            self._run("delete", *(["--force"] if force else []), ctr_id)
        except OCIRuntimeError as exc:
            if "does not exist" not in str(exc) and "not found" not in str(exc):
                raise

    def state(self, ctr_id: str) -> dict | None:
        """Return the runtime's state of a container, or None when it knows none."""
        try:
            return json.loads(self._run("state", ctr_id))
        except OCIRuntimeError:
            return None

    def pids(self, ctr_id: str) -> list[int]:
        return json.loads(self._run("ps", "--format", "json", ctr_id) or "[]") or []

    def exec_argv(
        self, ctr_id: str, process_file: Path, detach: bool = False, pid_file: Path | None = None
    ) -> list[str]:
        """Return the command line that runs one more process (described in a file) inside."""
        args = ["exec", "--process", str(process_file)]
        if detach:
            args.append("--detach")
        if pid_file:
            args += ["--pid-file", str(pid_file)]
        return self.argv(*args, ctr_id)
