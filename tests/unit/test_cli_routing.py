"""The CLI builds only the parsers a verb needs; every routed verb must still parse."""

import importlib.util
import subprocess
import sys

import pytest

from runtime.cli.main import COMMAND_MODULES, VERB_MODULES, build_parser

ROUTED = sorted(
    v for v, mods in VERB_MODULES.items() if all(importlib.util.find_spec(m) for m in mods)
)


@pytest.mark.parametrize("verb", ROUTED)
def test_a_routed_verb_is_known_to_its_modules(verb):
    parser = build_parser([verb])
    choices = parser._subparsers._group_actions[0].choices  # argparse keeps them here
    assert verb in choices


def test_every_verb_of_every_module_is_routed_or_falls_back_to_all():
    full = build_parser([])
    every = set(full._subparsers._group_actions[0].choices)
    for verb in every:
        assert verb in build_parser([verb])._subparsers._group_actions[0].choices


def test_the_modules_list_names_real_modules():
    assert "runtime.cli.containers" in COMMAND_MODULES


def test_help_of_a_routed_verb_runs():
    r = subprocess.run(
        [sys.executable, "-m", "runtime.cli.main", "build", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert r.returncode == 0 and "--build-arg" in r.stdout
