"""Usage errors (a bad flag, a missing argument) said as Docker's CLI says them.

argparse words these its own way and exits 2; Docker prints ``unknown flag:
--foo`` or ``"docker run" requires at least 1 argument.``, then ``See 'docker
run --help'.``, and exits 125 (an unknown command: 1). Every parser of the
``wharf`` command is a ``UsageParser``, so a mistake is reported by the verb it
was made in (``wharf container run``), and argparse's message is turned into
Docker's here, in one place.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import NoReturn

#: Docker's exit code for a command line it cannot parse
USAGE_EXIT = 125
#: and for a command it does not know
UNKNOWN_COMMAND_EXIT = 1


class UsageParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are Docker's text and exit code."""

    def parse_known_args(self, args=None, namespace=None):  # noqa: ANN001, ANN201 - argparse's
        args = list(sys.argv[1:] if args is None else args)
        args, given = self._bool_values(args)
        ns, extras = super().parse_known_args(args, namespace)
        if extras:
            # report it here, in the verb that did not know it, not in the top parser
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        for dest, value in given.items():
            setattr(ns, dest, value)
        return ns, extras

    def _bool_values(self, args: list[str]) -> tuple[list[str], dict[str, bool]]:
        """Take Docker's ``--rm=false``/``--sig-proxy=true`` out of the arguments.

        Only up to this verb's first positional argument: what follows the image
        of ``run`` is the container's command, and a verb's own flags come first.
        """
        switches = {
            opt: a
            for a in self._actions
            if isinstance(a, argparse._StoreTrueAction | argparse._StoreFalseAction)
            for opt in a.option_strings  # --rm=false, and -H=false as pflag takes it
        }
        with_value = {
            opt
            for a in self._actions
            if a.option_strings and a.nargs != 0
            for opt in a.option_strings
        }
        out: list[str] = []
        given: dict[str, bool] = {}
        i = 0
        while i < len(args):
            tok = args[i]
            name, eq, value = tok.partition("=")
            if eq and name in switches and value.lower() in ("true", "false", "1", "0"):
                on = value.lower() in ("true", "1")
                action = switches[name]
                given[action.dest] = on if isinstance(action, argparse._StoreTrueAction) else not on
                i += 1
                continue
            if tok == "--" or not tok.startswith("-") or tok == "-":
                out.extend(args[i:])
                break
            out.append(tok)
            if tok in with_value and i + 1 < len(args):
                out.append(args[i + 1])
                i += 1
            i += 1
        return out, given

    def error(self, message: str) -> NoReturn:
        text, code = docker_usage_error(self, message)
        print(text, file=sys.stderr)
        sys.exit(code)


def _positionals(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a
        for a in parser._actions
        if not a.option_strings and not isinstance(a, argparse._SubParsersAction)
    ]


def _arity(parser: argparse.ArgumentParser) -> tuple[int, bool]:
    """The least number of arguments the verb takes, and whether that is also the most."""
    least, exact = 0, True
    for a in _positionals(parser):
        if a.nargs is None:
            least += 1
        elif a.nargs == "+":
            least += 1
            exact = False
        else:
            exact = False
    return least, exact


def _arguments(n: int) -> str:
    return f"{n} argument" + ("" if n == 1 else "s")


def usage_line(parser: argparse.ArgumentParser) -> str:
    """Docker's one-line usage: ``wharf rm [OPTIONS] CONTAINER [CONTAINER...]``."""
    parts = [parser.prog, "[OPTIONS]"]
    for a in _positionals(parser):
        name = (a.metavar or a.dest).upper()
        if a.nargs == argparse.REMAINDER:
            parts.append("[COMMAND] [ARG...]")
        elif a.nargs == "+":
            parts.append(f"{name} [{name}...]")
        elif a.nargs == "*":
            parts.append(f"[{name}...]")
        elif a.nargs == "?":
            parts.append(f"[{name}]")
        else:
            parts.append(name)
    return " ".join(parts)


def _flag_named(parser: argparse.ArgumentParser, names: str) -> str:
    """Docker's way of naming a flag in an error: ``-t, --time`` (short first)."""
    options = names.split("/")
    short = [o for o in options if not o.startswith("--")]
    long = [o for o in options if o.startswith("--")]
    return ", ".join(short[:1] + long[:1])


def docker_usage_error(parser: argparse.ArgumentParser, message: str) -> tuple[str, int]:
    """Turn argparse's message into Docker's text and exit code."""
    prog = parser.prog
    hint = f"See '{prog} --help'."
    if m := re.match(
        r"argument (?:COMMAND|command|\w+_command): invalid choice: '([^']*)'", message
    ):
        return (
            f"wharf: '{m.group(1)}' is not a {prog} command.\nSee '{prog} --help'",
            UNKNOWN_COMMAND_EXIT,
        )
    if message.startswith("unrecognized arguments: "):
        first = message.split(": ", 1)[1].split(" ")[0]
        if first.startswith("-") and first != "-":
            return f"unknown flag: {first.split('=', 1)[0]}\n{hint}", USAGE_EXIT
        least, exact = _arity(parser)
        if exact:
            return _count_error(parser, f"requires exactly {_arguments(least)}"), USAGE_EXIT
        return f"{prog}: too many arguments: {first}\n{hint}", USAGE_EXIT
    if message.startswith("the following arguments are required"):
        least, exact = _arity(parser)
        wording = "exactly" if exact else "at least"
        return _count_error(parser, f"requires {wording} {_arguments(least)}"), USAGE_EXIT
    if m := re.match(r"argument ([^:]+): expected (?:one|at least one) argument", message):
        options = m.group(1).split("/")
        short = [o for o in options if not o.startswith("--")]
        named = f"'{short[0][1:]}' in {short[0]}" if short else options[0]
        return f"flag needs an argument: {named}\n{hint}", USAGE_EXIT
    if m := re.match(r"argument ([^:]+): invalid (\w+) value: '(.*)'$", message):
        flag, kind, value = _flag_named(parser, m.group(1)), m.group(2), m.group(3)
        why = (
            f'strconv.ParseInt: parsing "{value}": invalid syntax'
            if kind == "int"
            else f'strconv.ParseFloat: parsing "{value}": invalid syntax'
            if kind == "float"
            else "invalid value"
        )
        return f'invalid argument "{value}" for "{flag}" flag: {why}\n{hint}', USAGE_EXIT
    if m := re.match(r"argument ([^:]+): invalid choice: '([^']*)' \(choose from (.*)\)$", message):
        flag, value = _flag_named(parser, m.group(1)), m.group(2)
        return (
            f'invalid argument "{value}" for "{flag}" flag: must be one of {m.group(3)}\n{hint}',
            USAGE_EXIT,
        )
    if m := re.match(r"argument ([^:]+): ignored explicit argument '(.*)'$", message):
        flag = _flag_named(parser, m.group(1))
        return f'invalid argument "{m.group(2)}" for "{flag}" flag\n{hint}', USAGE_EXIT
    return f"{message}\n{hint}", USAGE_EXIT


def _count_error(parser: argparse.ArgumentParser, wording: str) -> str:
    prog = parser.prog
    text = f"\"{prog}\" {wording}.\nSee '{prog} --help'.\n\nUsage:  {usage_line(parser)}"
    if parser.description:
        text += f"\n\n{parser.description}"
    return text
