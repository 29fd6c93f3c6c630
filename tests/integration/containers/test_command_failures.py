"""Failures of the programs Wharf runs reach the person as one line, never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_export_into_a_closed_pipe_ends_quietly(wharf):
    wharf("create", "--name", "big", "--network", "none", "busybox", "true")
    for module in ("runtime.cli.main", "runtime.cli.entry"):  # in-process and fork server
        proc = subprocess.run(
            f"{sys.executable} -m {module} export big | head -c 10 > /dev/null; "
            'echo "status ${PIPESTATUS[0]}" >&2',
            shell=True,
            executable="/bin/bash",
            cwd=REPO,
            env=wharf.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.stderr.strip() == "status 0", proc.stderr


def test_a_failed_copy_up_into_a_volume_is_a_wharf_error(wharf, wharf_paths):
    wharf("volume", "create", "locked")
    data = wharf_paths.root / "volumes" / "locked" / "_data"
    subprocess.run(["chattr", "+i", str(data)], check=True)  # even root cannot write there
    try:
        out = wharf("run", "--rm", "--network", "none", "-v", "locked:/etc", "busybox", "true",
                    check=False)  # fmt: skip
    finally:
        subprocess.run(["chattr", "-i", str(data)], check=True)
    assert out.returncode == 125
    assert "Traceback" not in out.stderr
    (line,) = out.stderr.strip().splitlines()  # the container was made: no hint line
    assert line.startswith(
        "wharf: Error response from daemon: copying the image's files into volume locked: cp: "
    )
