"""Bad input: one clear line, Docker's exit code, and nothing left behind."""

from __future__ import annotations

from pathlib import Path

from tests.integration.conftest import error_line, own_container_cgroups


def _leftovers(wharf_paths) -> dict:
    mounts = [
        ln
        for ln in Path("/proc/self/mountinfo").read_text().splitlines()
        if str(wharf_paths.run) in ln or str(wharf_paths.root) in ln
    ]
    cgroups = own_container_cgroups(wharf_paths)
    run_dirs = (
        list((wharf_paths.run / "containers").glob("*"))
        if (wharf_paths.run / "containers").exists()
        else []
    )
    return {"mounts": mounts, "cgroups": cgroups, "run_dirs": run_dirs}


def _assert_one_line_error(out, code: int, needle: str) -> None:
    assert out.returncode == code, out.stderr
    assert needle in error_line(out), out.stderr


def test_unknown_image(wharf):
    out = wharf("run", "--rm", "--pull", "never", "nosuchimage", "true", check=False)
    _assert_one_line_error(out, 125, "nosuchimage")
    # without --pull never it is looked for in the registry first, as Docker does
    out = wharf("run", "--rm", "nosuchimage", "true", check=False)
    assert out.returncode == 125
    assert out.stderr.startswith("Unable to find image 'nosuchimage:latest' locally\n")
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 3 and lines[1].startswith("wharf: Error response from daemon: ")
    assert lines[2] == "See 'wharf run --help'.", out.stderr


def test_bad_flag_values(wharf, wharf_paths):
    before = _leftovers(wharf_paths)
    _assert_one_line_error(
        wharf("run", "-m", "1x", "busybox", "true", check=False), 125, "--memory"
    )
    _assert_one_line_error(
        wharf("run", "--cpus", "-1", "busybox", "true", check=False), 125, "--cpus"
    )
    _assert_one_line_error(
        wharf("run", "--restart", "sometimes", "busybox", "true", check=False),
        125,
        "restart policy",
    )
    _assert_one_line_error(
        wharf("run", "--cap-add", "NOT_A_CAP", "busybox", "true", check=False), 125, "capability"
    )
    assert wharf("ps", "-aq").stdout == ""
    assert _leftovers(wharf_paths) == before


def test_a_name_in_use(wharf):
    wharf("create", "--name", "taken", "busybox", "true")
    out = wharf("create", "--name", "taken", "busybox", "true", check=False)
    _assert_one_line_error(out, 1, "already in use")  # Docker's create: 1, its run: 125
    out = wharf("run", "--name", "taken", "busybox", "true", check=False)
    _assert_one_line_error(out, 125, "already in use")
    assert len(wharf("ps", "-aq").stdout.split()) == 1


def test_an_image_whose_proc_is_a_symlink(wharf, wharf_paths):
    # make the image by committing a container whose upper dir turns /proc into a symlink
    cid = wharf("create", "busybox", "true").stdout.strip()
    (wharf_paths.root / "containers" / cid / "upper" / "proc").symlink_to("/tmp")
    wharf("commit", cid, "evil:proc")
    wharf("rm", cid)
    before = _leftovers(wharf_paths)
    out = wharf("run", "--rm", "evil:proc", "true", check=False)
    _assert_one_line_error(out, 125, "/proc is a symlink")
    assert _leftovers(wharf_paths) == before
    assert wharf("ps", "-aq").stdout == ""


def test_a_workdir_in_proc_self_fd(wharf, wharf_paths):
    out = wharf("run", "--rm", "-w", "/proc/self/fd/7", "busybox", "true", check=False)
    _assert_one_line_error(out, 125, "/proc/self/fd/7")
    # the same from an image's WORKDIR (runc CVE-2024-21626: a leaked fd as the cwd)
    cid = wharf("create", "busybox", "true").stdout.strip()
    wharf("commit", "-c", "WORKDIR /proc/self/fd/8", cid, "evil:workdir")
    wharf("rm", cid)
    out = wharf("run", "--rm", "evil:workdir", "true", check=False)
    _assert_one_line_error(out, 125, "/proc/self/fd/8")
    assert wharf("ps", "-aq").stdout == ""
    assert not _leftovers(wharf_paths)["mounts"]


def test_exec_in_a_stopped_container_and_rm_of_a_running_one(wharf):
    stopped = wharf("create", "busybox", "true").stdout.strip()
    _assert_one_line_error(wharf("exec", stopped, "true", check=False), 1, "is not running")
    running = wharf("run", "-d", "busybox", "sleep", "30").stdout.strip()
    _assert_one_line_error(wharf("rm", running, check=False), 1, "Stop the container")


def test_an_unknown_container(wharf):
    _assert_one_line_error(wharf("start", "ghost", check=False), 1, "No such container: ghost")
    _assert_one_line_error(wharf("logs", "ghost", check=False), 1, "No such container: ghost")


def test_rmi_refuses_an_image_a_container_uses(wharf):
    cid = wharf("create", "busybox", "true").stdout.strip()
    out = wharf("rmi", "busybox", check=False)
    assert out.returncode != 0 and cid[:12] in out.stderr
    wharf("rm", cid)
    assert wharf("rmi", "busybox").returncode == 0


def test_exec_refuses_a_workdir_in_proc(wharf):
    cid = wharf("run", "-d", "busybox", "sleep", "30").stdout.strip()
    out = wharf("exec", "-w", "/proc/self/fd/5", cid, "true", check=False)
    assert out.returncode == 1 and "inside /proc" in out.stderr
    out = wharf("exec", "-w", "/nowhere", cid, "true", check=False)
    assert out.returncode == 1 and "does not exist" in out.stderr


def test_the_verbs_docker_fails_with_1(wharf):
    # a bad flag value is still 125 (Docker's client refuses it before asking)
    _assert_one_line_error(wharf("create", "-m", "1x", "busybox", check=False), 125, "--memory")
    for argv in (
        ("exec", "ghost", "true"),
        ("logs", "ghost"),
        ("rename", "ghost", "other"),
        ("cp", "ghost:/etc/hostname", "/tmp/"),
        ("port", "ghost"),
    ):
        out = wharf(*argv, check=False)
        assert out.returncode == 1, (argv, out.stderr)
        error_line(out)


def test_exec_of_a_missing_program_is_126(wharf):
    cid = wharf("run", "-d", "busybox", "sleep", "30").stdout.strip()
    _assert_one_line_error(wharf("exec", cid, "nosuch", check=False), 126, '"nosuch"')
    _assert_one_line_error(wharf("exec", cid, "/etc", check=False), 126, "permission denied")


def test_rm_f_of_a_missing_container_says_so_and_succeeds(wharf):
    out = wharf("rm", "-f", "ghost", check=False)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "Error: No such container: ghost\n")
    _assert_one_line_error(wharf("rm", "ghost", check=False), 1, "No such container: ghost")
