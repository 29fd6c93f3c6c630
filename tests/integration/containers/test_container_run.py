"""`wharf run`: the command, its environment and Docker's exit codes, checked from inside."""

from __future__ import annotations


def test_it_runs_the_command_as_pid_1_and_prints_its_output(wharf):
    out = wharf("run", "--rm", "busybox", "sh", "-c", "echo $$; echo to-stderr >&2")
    assert out.stdout == "1\n"
    assert out.stderr == "to-stderr\n"


def test_it_returns_the_containers_exit_code(wharf):
    assert wharf("run", "--rm", "busybox", "sh", "-c", "exit 3", check=False).returncode == 3


def test_it_returns_127_for_a_missing_command_and_126_for_a_directory(wharf):
    missing = wharf("run", "--rm", "busybox", "no-such-command", check=False)
    assert missing.returncode == 127
    assert "no-such-command" in missing.stderr and "not found" in missing.stderr
    not_exec = wharf("run", "--rm", "busybox", "/etc", check=False)
    assert not_exec.returncode == 126
    assert wharf("ps", "-aq").stdout == ""  # --rm removed both failed containers


def test_it_returns_128_plus_the_signal_that_ended_the_command(wharf):
    # Under --init the shell is not PID 1, so the kernel lets its own SIGTERM kill it.
    out = wharf("run", "--rm", "--init", "busybox", "sh", "-c", "kill -TERM $$", check=False)
    assert out.returncode == 143
    cid = wharf("run", "-d", "busybox", "sleep", "100").stdout.strip()
    wharf("kill", cid)
    assert wharf("wait", cid).stdout.strip() == "137"


def test_it_sets_the_hostname_and_the_etc_files(wharf):
    out = wharf(
        "run",
        "--rm",
        "-h",
        "box1",
        "busybox",
        "sh",
        "-c",
        "hostname; cat /etc/hostname; grep -c localhost /etc/hosts; test -s /etc/resolv.conf && echo resolv",
    )
    assert out.stdout.split() == ["box1", "box1", "2", "resolv"]


def test_default_hostname_is_the_short_id(wharf):
    cid = wharf("run", "-d", "busybox", "hostname").stdout.strip()
    wharf("wait", cid)
    assert wharf("logs", cid).stdout.strip() == cid[:12]


def test_it_merges_env_with_the_image_and_the_env_file(wharf, tmp_path):
    env_file = tmp_path / "env"
    env_file.write_text("# comment\nFROM_FILE=yes\nSHARED=file\n")
    out = wharf(
        "run",
        "--rm",
        "--env-file",
        str(env_file),
        "-e",
        "SHARED=flag",
        "-e",
        "A=1",
        "busybox",
        "env",
    )
    env = dict(line.split("=", 1) for line in out.stdout.splitlines())
    assert env["FROM_FILE"] == "yes" and env["SHARED"] == "flag" and env["A"] == "1"
    assert env["PATH"].startswith("/usr/local/sbin")
    assert env["HOME"] == "/root" and "HOSTNAME" in env


def test_workdir_is_created_and_used(wharf):
    assert wharf("run", "--rm", "-w", "/new/dir", "busybox", "pwd").stdout == "/new/dir\n"


def test_entrypoint_and_cmd_combine_like_docker(wharf):
    assert wharf("run", "--rm", "--entrypoint", "echo", "busybox", "a", "b").stdout == "a b\n"
    # a new entrypoint drops the image's CMD
    assert wharf("run", "--rm", "--entrypoint", "/bin/pwd", "busybox").stdout == "/\n"


def test_user_by_uid_and_by_name(wharf):
    assert wharf("run", "--rm", "-u", "1234", "busybox", "id").stdout.startswith("uid=1234 gid=0")
    assert wharf("run", "--rm", "-u", "1000", "busybox", "id", "-u").stdout == "1000\n"
    nobody = wharf("run", "--rm", "-u", "nobody", "busybox", "id", "-u").stdout.strip()
    assert nobody == "65534"
    caps = wharf("run", "--rm", "-u", "1000:1000", "busybox", "grep", "CapEff", "/proc/self/status")
    assert caps.stdout.split()[1] == "0000000000000000"


def test_unknown_user_is_a_clear_error(wharf):
    out = wharf("run", "--rm", "-u", "ghost", "busybox", "true", check=False)
    assert out.returncode == 125
    assert "unable to find user ghost" in out.stderr


def test_stdin_with_interactive(wharf):
    out = wharf("run", "--rm", "-i", "busybox", "sh", "-c", "tr a-z A-Z", input="hello\n")
    assert out.stdout == "HELLO\n"


def test_tty_gives_a_terminal(wharf):
    out = wharf("run", "--rm", "-t", "busybox", "sh", "-c", "test -t 1 && echo tty")
    assert out.stdout.strip() == "tty"


def test_init_runs_tini_as_pid_1(wharf):
    out = wharf(
        "run", "--rm", "--init", "busybox", "sh", "-c", "cat /proc/1/cmdline | tr '\\0' ' '"
    )
    assert out.stdout.startswith("/sbin/docker-init -- sh")


def test_id_shows_the_groups_docker_gives(wharf):
    def ident(*flags: str) -> str:
        return wharf("run", "--rm", *flags, "busybox", "id").stdout.strip()

    assert ident() == "uid=0(root) gid=0(root) groups=0(root)"
    assert ident("-u", "nobody").endswith("groups=65534(nogroup)")
    assert ident("-u", "1000:1000").endswith("groups=1000(user)")
    assert ident("-u", "1000", "--group-add", "nogroup", "--group-add", "4000").endswith(
        "groups=1000(user),4000,65534(nogroup)"
    )
    cid = wharf("run", "-d", "--group-add", "7", "busybox", "sleep", "60").stdout.strip()
    assert wharf("exec", cid, "id").stdout.strip().endswith("groups=0(root),7")
    assert wharf("inspect", "-f", "{{json .HostConfig.GroupAdd}}", cid).stdout.strip() == '["7"]'
    bad = wharf("run", "--rm", "--group-add", "ghosts", "busybox", "id", check=False)
    assert bad.returncode == 125 and "Unable to find group ghosts" in bad.stderr
