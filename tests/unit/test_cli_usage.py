"""Usage errors read as Docker's and exit as Docker's: 125 (an unknown command: 1)."""

from __future__ import annotations

import pytest

from runtime.cli.main import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    return exc.value.code, capsys.readouterr().err


def test_an_unknown_flag_names_the_verb_it_was_given_to(capsys):
    assert run(capsys, "run", "--foo", "busybox") == (
        125,
        "unknown flag: --foo\nSee 'wharf run --help'.\n",
    )
    code, err = run(capsys, "container", "run", "--foo=1", "busybox")
    assert (code, err.splitlines()) == (
        125,
        ["unknown flag: --foo", "See 'wharf container run --help'."],
    )


def test_a_missing_argument_shows_the_usage_line(capsys):
    assert run(capsys, "run") == (
        125,
        '"wharf run" requires at least 1 argument.\n'
        "See 'wharf run --help'.\n\n"
        "Usage:  wharf run [OPTIONS] IMAGE [COMMAND] [ARG...]\n",
    )
    code, err = run(capsys, "logs")
    assert code == 125 and err.startswith('"wharf logs" requires exactly 1 argument.\n')
    code, err = run(capsys, "rename", "a", "b", "c")
    assert code == 125 and err.startswith('"wharf rename" requires exactly 2 arguments.\n')


def test_a_flag_without_its_value_or_with_a_bad_one(capsys):
    assert run(capsys, "stop", "-t") == (
        125,
        "flag needs an argument: 't' in -t\nSee 'wharf stop --help'.\n",
    )
    code, err = run(capsys, "stop", "-t", "abc", "x")
    assert code == 125
    assert err.startswith('invalid argument "abc" for "-t, --time" flag: strconv.ParseInt')


def test_an_unknown_command_exits_1(capsys):
    assert run(capsys, "nosuch") == (
        1,
        "wharf: 'nosuch' is not a wharf command.\nSee 'wharf --help'\n",
    )


def test_boolean_flags_take_docker_s_true_and_false():
    from runtime.cli.main import build_parser

    argv = ["run", "--rm=false", "--sig-proxy=false", "-i", "busybox", "echo", "--rm=true"]
    args = build_parser(argv).parse_args(argv)
    assert (args.rm, args.sig_proxy, args.interactive) == (False, False, True)
    assert args.command == ["echo", "--rm=true"]  # the container's own arguments stay as given
    argv = ["attach", "--sig-proxy=true", "c1"]
    assert build_parser(argv).parse_args(argv).sig_proxy is True
