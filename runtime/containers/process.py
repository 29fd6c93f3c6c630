"""The process side of containers: the shim that runs each one, signals, waits, attach, exec.

A per-container shim (``runtime.oci.shim``) outlives every Wharf process: it
starts the container through the OCI runtime, holds its stdio (the attach
socket), writes its log and, at the end, the exit file. This module talks to
the shim and to the container's processes; the records stay in
``runtime.containers.records`` and the life cycle (create, start, remove) in the
manager, which this class is a part of (``self.m``).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from runtime.containers import rootfs as rootfs_mod
from runtime.containers.cgroups import cgroup_mode, cgroup_path
from runtime.containers.config import signal_number
from runtime.containers.model import Container
from runtime.errors import CommandNotExecutable, CommandNotFound, Conflict, InvalidArgument

DEFAULT_STOP_TIMEOUT = 10


class ContainerProcesses:
    """Shim, signals, stop, wait, attach and exec for the containers of one manager."""

    def __init__(self, manager: Any) -> None:
        self.m = manager
        self.records = manager.records
        self.paths = manager.paths

    def spawn_shim(
        self, c: Container, oci: Any, shim: Path, attach_fd: int | None, lock_fd: int
    ) -> int:
        """Start the container under its shim; return its pid once the runtime started it.

        The shim gets a copy of our lock on the container and keeps it until the
        start is decided, so a caller killed now leaves no window for a second start.
        """
        run, base = self.m.run_dir(c.id), self.m.dir(c.id)
        mode = cgroup_mode()
        path = cgroup_path(c.id, c.spec.cgroup_parent)
        oom_file = (
            f"/sys/fs/cgroup{path}/memory.events"
            if mode == "v2"
            else f"/sys/fs/cgroup/memory{path}/memory.oom_control"
        )
        argv = [
            str(shim),
            "-r",
            oci.path,
            "-i",
            c.id,
            "-b",
            str(run),
            "-S",
            str(oci.state_root),
            "-p",
            str(run / "pid"),
            "-l",
            # --log-driver none: what it prints is kept nowhere
            "/dev/null" if c.spec.log_driver == "none" else str(base / "json.log"),
            "-e",
            str(base / "exit.json"),
            "-s",
            str(run / "attach.sock"),
            "-o",
            oom_file,
            "-m",
            str(run / "rootfs"),
        ]
        if c.spec.stdin_open:
            argv.append("-I")
        if c.spec.tty:
            argv.append("-t")
        if c.spec.auto_remove:
            argv += ["-x", self.remove_command(c.id)]
        if "max-size" in c.spec.log_opts and c.spec.log_driver != "none":
            from runtime.containers.model import parse_size

            argv += [
                "-L",
                str(parse_size(c.spec.log_opts["max-size"], "max-size")),
                "-N",
                c.spec.log_opts.get("max-file", "1"),
            ]
        read_end, write_end = os.pipe()
        fds = [write_end, lock_fd]
        argv += ["-y", str(write_end), "-K", str(lock_fd)]
        if attach_fd is not None:
            argv += ["-A", str(attach_fd)]
            fds.append(attach_fd)
        try:
            proc = subprocess.Popen(
                argv,
                pass_fds=fds,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        with os.fdopen(read_end, "rb") as f:
            line = f.readline().decode(errors="replace").strip()
        _, err = proc.communicate()
        if line.startswith("ok "):
            return int(line.split()[1])
        from runtime.oci.runc import classify_start_error

        message = (
            line[4:] if line.startswith("err ") else (err.decode().strip() or "the shim failed")
        )
        raise classify_start_error(message)

    def remove_command(self, ctr_id: str) -> str:
        import shlex

        argv = [
            sys.executable,
            "-m",
            "runtime.cli.main",
            "--root",
            str(self.paths.root),
            "--run-dir",
            str(self.paths.run),
            "rm",
            "-f",
            ctr_id,
        ]
        env = f"PYTHONPATH={shlex.quote(str(Path(__file__).resolve().parents[2]))}"
        return f"{env} exec {' '.join(shlex.quote(a) for a in argv)}"

    def kill(self, id_or_name: str, signal: str | int = "KILL") -> None:
        """Send a signal to the container's main process."""
        c = self.m.get(id_or_name)
        require_running(c)
        num = signal_number(signal)
        if c.status == "paused" and num != 9:
            raise Conflict(
                f"Container {c.id} is paused. Unpause the container before stopping or killing"
            )
        with self.records.transaction():
            if num in (9, stop_signal(c)):
                # Docker's rule: a kill meant to end the container ends its restarts too
                self.records.update(c.id, manual_stop=1)
            self.records.event(c.id, "kill", signal=num)
        self.signal(c, num)

    def signal(self, c: Container, num: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(c.pid, num)

    def stop(self, id_or_name: str, timeout: int | None = None) -> Container:
        """Send STOPSIGNAL, then SIGKILL after the timeout (Docker's default 10 s)."""
        c = self.m.get(id_or_name)
        if c.status == "restarting":
            with self.records.transaction():  # the agent's pending restart sees this and gives up
                self.records.end_restart(c.id, by_person=True)
                self.records.event(c.id, "stop")
            return self.m.get(c.id)
        if not c.running:
            return c
        if timeout is None:
            timeout = (
                c.spec.stop_timeout if c.spec.stop_timeout is not None else DEFAULT_STOP_TIMEOUT
            )
        if c.status == "paused":
            self.m.oci_for(c).resume(c.id)
            with self.records.transaction():
                self.records.update(c.id, status="running")
        sig = stop_signal(c)
        with self.records.transaction():
            self.records.update(c.id, manual_stop=1)  # before the signal: no restart may follow
            self.records.event(c.id, "kill", signal=sig)
        self.signal(c, sig)
        if timeout < 0 or not self.wait_exit(c.id, timeout):
            with self.records.transaction():
                self.records.event(c.id, "kill", signal=9)
            self.signal(c, 9)
            self.wait_exit(c.id, 30)
        self.m.get(c.id)  # the die is recorded before the stop
        with self.records.transaction():
            self.records.event(c.id, "stop")
        return self.m.get(c.id)

    def wait_exit(self, ctr_id: str, timeout: float | None) -> bool:
        """Wait for the container to exit; True when it has (and its exit is recorded)."""
        exit_file = self.m.dir(ctr_id) / "exit.json"
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = 0.002
        while not exit_file.exists():
            # The shim closes every attached client once the exit file is written.
            sock = self.connect(ctr_id)
            if sock is not None:
                with sock:
                    left = None if deadline is None else max(deadline - time.monotonic(), 0.001)
                    sock.settimeout(left)
                    with contextlib.suppress(OSError):
                        # a container that keeps printing never lets recv time out:
                        # the deadline is checked between reads
                        while sock.recv(65536):
                            if deadline is not None and time.monotonic() >= deadline:
                                break
                if deadline is not None and time.monotonic() >= deadline:
                    return exit_file.exists()
                continue
            if not self.records.find(ctr_id).running:
                return True
            if not exit_file.exists() and not pid_alive(self.records.find(ctr_id).pid):
                self.m.sync(self.records.find(ctr_id))  # the shim is gone too: records it as dead
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        return True

    def shim_alive(self, ctr_id: str) -> bool:
        sock = self.connect(ctr_id)
        if sock is None:
            return False
        sock.close()
        return True

    def connect(self, ctr_id: str) -> socket.socket | None:
        """Connect to the shim's attach socket (through /proc: unix paths max 108 bytes)."""
        run = self.m.run_dir(ctr_id)
        try:
            dfd = os.open(run, os.O_PATH)
        except OSError:
            return None
        try:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(f"/proc/self/fd/{dfd}/attach.sock")
            except OSError:
                sock.close()
                return None
            return sock
        finally:
            os.close(dfd)

    def attach_socket(self, id_or_name: str) -> socket.socket:
        """Return a connection to a running container's stdio (frames, see the shim)."""
        c = self.m.get(id_or_name)
        require_running(c)
        sock = self.connect(c.id)
        if sock is None:
            raise Conflict(f"cannot attach to container {c.name}: its monitor does not answer")
        return sock

    def resize(self, id_or_name: str, rows: int, cols: int) -> None:
        """Set the window size of a ``-t`` container's terminal."""
        c = self.m.get(id_or_name)
        require_running(c)
        if not c.spec.tty:
            raise Conflict(f"container {c.name} has no terminal (it was not started with -t)")
        try:
            fd = os.open(self.m.run_dir(c.id) / "ctl", os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise Conflict(f"cannot resize the terminal of {c.name}: {exc.strerror}") from None
        try:
            os.write(fd, f"resize {int(rows)} {int(cols)}\n".encode())
        finally:
            os.close(fd)

    def wait(self, id_or_name: str, timeout: float | None = None) -> int:
        """Block until the container exits; return its exit code."""
        c = self.m.get(id_or_name)
        if c.running:
            self.wait_exit(c.id, timeout)
        return self.m.get(c.id).exit_code

    def exec_process(
        self,
        c: Container,
        cmd: list[str],
        *,
        user: str,
        workdir: str,
        env: list[str] | None,
        privileged: bool,
        terminal: bool,
    ) -> dict:
        """Return the OCI process for one more command in a running container (checked)."""
        require_running(c)
        if c.status == "paused":
            raise Conflict(f"Container {c.id} is paused, unpause the container before exec")
        if not cmd:
            raise InvalidArgument("no command specified for exec")
        run = self.m.run_dir(c.id)
        process = json.loads((run / "config.json").read_text())["process"]
        rootfs = run / "rootfs"
        if user:
            uid, gid, extra, _home = rootfs_mod.resolve_user(rootfs, user, c.spec.group_add)
            process["user"] = {
                "uid": uid,
                "gid": gid,
                **({"additionalGids": extra} if extra else {}),
            }
            if uid != 0:
                process["capabilities"]["effective"] = []
                process["capabilities"]["permitted"] = []
        if workdir:
            found = rootfs_mod.stat_inside(rootfs, rootfs_mod.check_workdir(rootfs, workdir))
            if found is None or not stat.S_ISDIR(found.st_mode):
                raise InvalidArgument(
                    f"working directory {workdir} does not exist in the container"
                )
            process["cwd"] = workdir
        merged = {e.split("=", 1)[0]: e for e in process["env"]}
        if terminal and "TERM" not in merged:
            merged["TERM"] = "TERM=xterm"
        for e in env or []:
            merged[e.split("=", 1)[0]] = e
        process["env"] = list(merged.values())
        process["args"] = list(cmd)
        if privileged:
            from runtime.oci.spec import capability_set

            caps = capability_set(True, [], [])
            running = caps if process["user"]["uid"] == 0 else []
            process["capabilities"] = {"bounding": caps, "effective": running, "permitted": running}
        process["terminal"] = terminal
        check_command(rootfs, cmd[0], process["env"], process["cwd"])
        return process

    def exec_event(self, ctr_id: str, exec_id: str, action: str, **attrs: Any) -> None:
        """Docker's exec events: ``exec_create: CMD``, ``exec_start: CMD``, ``exec_die``."""
        with self.records.transaction():
            self.records.event(ctr_id, action, execID=exec_id, **attrs)

    def exec(
        self,
        id_or_name: str,
        cmd: list[str],
        *,
        user: str = "",
        workdir: str = "",
        env: list[str] | None = None,
        detach: bool = False,
        privileged: bool = False,
        stdin: Any = None,
        stdout: Any = None,
        stderr: Any = None,
    ) -> int:
        """Run one more process in a running container with the given stdio; return its exit code.

        Docker's 127/126 come as CommandNotFound/CommandNotExecutable. For a
        process with its own terminal use ``exec_tty``.
        """
        c = self.m.get(id_or_name)
        process = self.exec_process(
            c, cmd, user=user, workdir=workdir, env=env, privileged=privileged, terminal=False
        )
        exec_id = os.urandom(32).hex()
        proc_file = self.m.run_dir(c.id) / f"exec-{exec_id[:12]}.json"
        proc_file.write_text(json.dumps(process))
        self.exec_event(c.id, exec_id, f"exec_start: {' '.join(cmd)}")
        try:
            argv = self.m.oci_for(c).exec_argv(c.id, proc_file, detach=detach)
            code = subprocess.run(argv, stdin=stdin, stdout=stdout, stderr=stderr).returncode
        finally:
            proc_file.unlink(missing_ok=True)
        if not detach:
            self.exec_event(c.id, exec_id, "exec_die", exitCode=code)
        return code

    def exec_tty(
        self,
        id_or_name: str,
        cmd: list[str],
        *,
        user: str = "",
        workdir: str = "",
        env: list[str] | None = None,
        privileged: bool = False,
    ) -> Any:
        """Start one more process on a pty of its own (a controlling terminal, job control).

        Returns a ``TtyExec``: ``.master`` is the pty master (read/write it, resize it
        with TIOCSWINSZ, close it when done), ``.wait()`` the exit code.
        """
        from runtime.containers import exectty

        c = self.m.get(id_or_name)
        process = self.exec_process(
            c, cmd, user=user, workdir=workdir, env=env, privileged=privileged, terminal=True
        )
        exec_id = os.urandom(32).hex()
        self.exec_event(c.id, exec_id, f"exec_start: {' '.join(cmd)}")
        handle = exectty.start(self.m.oci_for(c).argv(), process, c.id)
        handle.on_exit = lambda code: self.exec_event(c.id, exec_id, "exec_die", exitCode=code)
        return handle

    def read_exit(self, ctr_id: str) -> dict | None:
        try:
            return json.loads((self.m.dir(ctr_id) / "exit.json").read_text())
        except (OSError, ValueError):
            return None


def require_running(c: Container) -> None:
    """Fail like Docker for a command that needs a running container."""
    if not c.running:
        raise Conflict(f"Container {c.id} is not running")


def stop_signal(c: Container) -> int:
    """Return the signal that asks the container to stop (its STOPSIGNAL, else SIGTERM)."""
    return signal_number(c.config.get("StopSignal") or "SIGTERM")


def check_command(rootfs: Path, cmd: str, env: list[str], cwd: str) -> None:
    """Fail like Docker (127/126) before the runtime runs a command that cannot start."""
    found = rootfs_mod.find_executable(rootfs, cmd, env, cwd)
    if found is None:
        raise CommandNotFound(
            f'failed to create task: exec: "{cmd}": executable file not found in $PATH'
            if "/" not in cmd
            else f'failed to create task: exec: "{cmd}": stat {cmd}: no such file or directory'
        )
    if stat.S_ISDIR(found.st_mode) or not found.st_mode & 0o111:  # root runs any x bit
        raise CommandNotExecutable(f'failed to create task: exec: "{cmd}": permission denied')


def pid_alive(pid: int) -> bool:
    """Tell whether a process exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
