"""``docker run -it``, ``attach`` and ``exec -it`` against Wharf's Engine API, in a real
terminal: Debian's docker CLI runs in tmux, keys go in with send-keys and the
screen is read back, so the terminal, its size, Ctrl-C, the detach keys and the
exit codes are checked the way a person sees them."""

from __future__ import annotations

import time

import pytest


@pytest.fixture
def docker_line(docker_host: str) -> str:
    """The docker CLI's command line in the terminal, pointed at the test root."""
    return f"env DOCKER_HOST={docker_host} DOCKER_CONFIG=/nonexistent-wharf docker"


def _running(wharf, name: str) -> bool:
    return wharf("inspect", "-f", "{{.State.Running}}", name).stdout.strip() == "true"


def test_run_it_terminal_resize_ctrl_c_detach_and_attach_back(terminal, docker_line, wharf):
    term = terminal()
    term.run(f"{docker_line} run -it --name it1 busybox sh")
    term.wait_for("/ #")
    term.type("tty; echo mark-$((40+2))", "Enter")
    screen = term.wait_for("mark-42")
    assert "not a tty" not in screen
    term.resize(100, 30)
    # the CLI passes the new size on when its SIGWINCH comes: ask until the shell sees it
    deadline = time.monotonic() + 20
    while "30 100" not in term.screen():
        assert time.monotonic() < deadline, (
            f"the size never reached the container:\n{term.screen()}"
        )
        term.type("stty size", "Enter")
        time.sleep(0.5)
    term.type("sleep 100", "Enter")
    term.wait_for("sleep 100\n")
    term.type("C-c")
    term.type("echo after-$((2*3))", "Enter")
    term.wait_for("after-6")  # Ctrl-C ended the sleep, not the shell
    term.type("C-p", "C-q")
    assert term.exit_code() == 0
    assert _running(wharf, "it1"), "the detach keys ended the container"
    term.run(f"{docker_line} attach it1")
    term.type("echo back-$((3*3))", "Enter")
    term.wait_for("back-9")
    term.type("exit 3", "Enter")
    assert term.exit_code() == 3
    assert wharf("inspect", "-f", "{{.State.ExitCode}}", "it1").stdout.strip() == "3"
    wharf("rm", "it1")


def test_run_it_rm_with_custom_detach_keys(terminal, docker_line, wharf):
    term = terminal()
    term.run(f"{docker_line} run -it --rm --name it2 --detach-keys ctrl-x,x busybox sh")
    term.wait_for("/ #")
    term.type("C-p", "C-q")  # not the keys this time: passed to the shell
    term.type("echo still-$((5+5))", "Enter")
    term.wait_for("still-10")
    term.type("C-x", "x")
    assert term.exit_code() == 0
    assert _running(wharf, "it2")
    wharf("rm", "-f", "it2")


def test_exec_it_terminal_detach_keys_and_exit_code(terminal, docker_line, docker, wharf):
    docker("run", "-d", "--name", "ex1", "busybox", "sleep", "300")
    term = terminal()
    term.run(f"{docker_line} exec -it --detach-keys ctrl-x,x ex1 sh")
    term.wait_for("/ #")
    term.type("tty; echo in-exec-$((1+1))", "Enter")
    screen = term.wait_for("in-exec-2")
    assert "not a tty" not in screen
    term.type("sleep 2; touch /detached-ok", "Enter")
    term.type("C-x", "x")
    # docker exec reports a detach as its escape error (docker run does not)
    assert term.exit_code() == 1
    assert "read escape sequence" in term.screen()
    deadline = time.monotonic() + 20
    while docker("exec", "ex1", "test", "-e", "/detached-ok", check=False).returncode != 0:
        assert time.monotonic() < deadline, "the exec's shell did not run on after the detach"
        time.sleep(0.2)
    term.run(f"{docker_line} exec -it ex1 sh -c 'exit 5'")
    assert term.exit_code() == 5
    docker("rm", "-f", "ex1")
