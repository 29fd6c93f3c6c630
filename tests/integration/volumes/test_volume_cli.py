"""``wharf volume …`` speaks like ``docker volume …``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def wharf(paths, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, WHARF_ROOT=str(paths.root), WHARF_RUN=str(paths.run))
    return subprocess.run(
        [sys.executable, "-m", "runtime.cli.main", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_create_ls_inspect_rm(wharf_paths):
    assert (
        wharf(wharf_paths, "volume", "create", "--label", "team=blue", "pgdata").stdout
        == "pgdata\n"
    )
    ls = wharf(wharf_paths, "volume", "ls").stdout.splitlines()
    assert ls[0].split() == ["DRIVER", "VOLUME", "NAME"] and ls[1].split() == ["local", "pgdata"]
    assert (
        wharf(wharf_paths, "volume", "ls", "-q", "--filter", "label=team=blue").stdout == "pgdata\n"
    )
    (info,) = json.loads(wharf(wharf_paths, "volume", "inspect", "pgdata").stdout)
    assert (
        info["Name"] == "pgdata"
        and info["Driver"] == "local"
        and info["Labels"] == {"team": "blue"}
    )
    assert info["Mountpoint"] == str(wharf_paths.root / "volumes" / "pgdata" / "_data")
    assert wharf(wharf_paths, "volume", "rm", "pgdata").returncode == 0
    missing = wharf(wharf_paths, "volume", "rm", "pgdata")
    assert missing.returncode == 1 and "No such volume: pgdata" in missing.stderr
    assert wharf(wharf_paths, "volume", "rm", "-f", "pgdata").returncode == 0


def test_a_bad_name_is_one_clear_line(wharf_paths):
    r = wharf(wharf_paths, "volume", "create", "bad/name")
    assert r.returncode == 1  # Docker's client fails every verb but run/create with 1
    assert r.stderr.count("\n") == 1 and "invalid characters" in r.stderr
