"""`run -it`, `start -ai` and `attach` used as a person uses them: in a terminal.

Each test drives a real tmux session (keys in with send-keys, the screen read
back with capture-pane), so the container's terminal, Ctrl-C, the detach keys
and the exit code are checked the way they are seen.
"""

from __future__ import annotations

import shlex
import time


def test_run_it_gives_the_container_a_terminal_ctrl_c_and_the_exit_code(terminal, wharf):
    term = terminal()
    term.wharf("run -it --rm busybox sh")
    term.wait_for("/ #")
    term.type("tty; echo mark-$((40+2))", "Enter")
    screen = term.wait_for("mark-42")
    assert "/dev/pts/0" in screen
    assert "can't access tty" not in screen
    term.type("sleep 100", "Enter")
    term.wait_for("sleep 100\n")
    term.type("C-c")
    term.type("echo back-$((2+2))", "Enter")
    term.wait_for("back-4", timeout=20)  # within the sleep: Ctrl-C ended it
    term.type("exit 3", "Enter")
    assert term.exit_code() == 3
    assert wharf("ps", "-aq").stdout == ""  # --rm


def test_detach_keys_leave_the_container_running_and_attach_comes_back(terminal, wharf):
    term = terminal()
    term.wharf("run -it --name tt busybox sh")
    term.wait_for("/ #")
    term.type("C-p", "C-q")
    assert term.exit_code() == 0
    assert wharf("inspect", "-f", "{{.State.Running}}", "tt").stdout.strip() == "true"

    term.type("clear", "Enter")
    term.wharf("attach tt")
    term.type("echo attached-$((3+4))", "Enter")
    term.wait_for("attached-7")
    term.type("C-p", "C-q")
    assert term.exit_code() == 1
    assert "read escape sequence" in term.screen()
    assert wharf("inspect", "-f", "{{.State.Running}}", "tt").stdout.strip() == "true"

    term.type("clear", "Enter")
    term.wharf("attach --detach-keys ctrl-x tt")
    term.type("echo again-$((4+4))", "Enter")
    term.wait_for("again-8")
    term.type("exit 5", "Enter")
    assert term.exit_code() == 5


def test_exec_it_detach_keys_leave_the_process_running(terminal, wharf):
    wharf("run", "-d", "--name", "ex", "--network", "none", "busybox", "sleep", "300")
    term = terminal()
    term.wharf("exec -it --detach-keys ctrl-x,ctrl-y ex sh")
    term.wait_for("/ #")
    term.type("echo exec-$((5+5)); sleep 271", "Enter")
    term.wait_for("exec-10")
    term.type("C-p", "C-q")  # not this exec's keys: passed on to the shell
    term.type("C-x", "C-y")
    assert term.exit_code() == 1
    assert "read escape sequence" in term.screen()
    deadline = time.monotonic() + 30
    while "sleep 271" not in wharf("exec", "ex", "ps").stdout:
        assert time.monotonic() < deadline, "the exec's process did not run on"
        time.sleep(0.2)
    wharf("rm", "-f", "ex")


def test_start_ai_attaches_the_terminal(terminal, wharf):
    wharf("create", "-it", "--name", "st", "busybox", "sh")
    term = terminal()
    term.wharf("start -ai st")
    term.wait_for("/ #")
    term.type("tty; echo mark-$((5+5))", "Enter")
    assert "/dev/pts/0" in term.wait_for("mark-10")
    term.type("exit 4", "Enter")
    assert term.exit_code() == 4


def test_ctrl_c_is_passed_to_a_container_without_a_terminal(terminal):
    term = terminal()
    script = "trap 'echo got-INT; exit 7' INT; echo ready-$((6*7)); sleep 100 & wait"
    term.wharf(f"run --rm busybox sh -c {shlex.quote(script)}")
    term.wait_for("ready-42")
    term.type("C-c")
    assert term.exit_code() == 7
    assert "got-INT" in term.screen()


def test_bad_detach_keys_are_refused_before_the_container_starts(wharf):
    out = wharf("run", "-it", "--detach-keys", "ctrl-1", "busybox", "true", check=False)
    assert out.returncode == 125
    assert "Invalid detach keys (ctrl-1) provided" in out.stderr
    assert wharf("ps", "-aq").stdout == ""


def test_it_without_a_terminal_is_refused_as_docker_does(wharf):
    out = wharf("run", "-it", "--rm", "busybox", "true", input="", check=False)
    assert out.returncode == 1
    (line,) = out.stderr.strip().splitlines()
    assert "the input device is not a TTY" in line
    assert wharf("ps", "-aq").stdout == ""
    cid = wharf("run", "-d", "busybox", "sleep", "60").stdout.strip()
    out = wharf("exec", "-it", cid, "true", input="", check=False)
    assert out.returncode == 1 and "the input device is not a TTY" in out.stderr
    # -t alone needs no terminal of ours
    assert wharf("run", "-t", "--rm", "busybox", "echo", "ok", input="").stdout.strip() == "ok"


def test_attach_passes_ctrl_c_on_unless_sig_proxy_is_false(terminal, wharf):
    # it prints "2-tick" steadily: seeing it means the attach is relaying
    script = "trap 'echo got-INT; exit 7' INT; while :; do echo $((1+1))-tick; sleep 0.2; done"
    cid = wharf("run", "-d", "busybox", "sh", "-c", script).stdout.strip()
    term = terminal()
    term.wharf(f"attach --sig-proxy=false {cid}")
    term.wait_for("2-tick")
    term.type("C-c")
    term.exit_code()
    assert wharf("inspect", "-f", "{{.State.Running}}", cid).stdout.strip() == "true"
    seen = term.screen().count("2-tick")
    term.wharf(f"attach {cid}")
    deadline = time.monotonic() + 30
    while term.screen().count("2-tick") <= seen:  # new ticks: this attach relays
        assert time.monotonic() < deadline, term.screen()
        time.sleep(0.1)
    term.type("C-c")
    assert term.exit_code() == 7
    assert "got-INT" in term.screen()
